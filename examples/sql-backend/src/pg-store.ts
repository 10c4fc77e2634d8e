import {
  type Backend,
  type BackendLabel,
  CacheError,
  type CacheKey,
  type CacheOperation,
  CacheValue,
  type Compressor,
  DeleteStatus,
  type Format,
  type KeyFormat,
} from '@cache/core';
import type { Pool, PoolClient } from 'pg';
import { type Statements, statements } from './statements.js';

/** Settings of the raw store, all resolved: see `PgBackendOptions` for what each one does and its default. */
export interface PgStoreConfig {
  /** Connections to run queries on. */
  readonly pool: Pool;
  /** Whether `close()` ends the pool (true when the backend created it). */
  readonly ownsPool: boolean;
  /** Table of entries. */
  readonly table: string;
  /** Schema of the table; the connection's search path when undefined. */
  readonly schema: string | undefined;
  /** Name in errors. */
  readonly label: BackendLabel;
  /** Format whose id is stored in each row. */
  readonly valueFormat: Format;
  /** Turns keys into the primary-key bytes. */
  readonly keyFormat: KeyFormat;
  /** Compressor whose id is stored in each row. */
  readonly compressor: Compressor;
  /** Largest data accepted by `write`. */
  readonly maxValueBytes: number;
  /** Rows a sweep deletes per statement. */
  readonly sweepBatch: number;
  /** Clock in Unix milliseconds. */
  readonly now: () => number;
}

interface Row {
  data: Buffer;
  expire: string | null;
  stale: string | null;
  format: string;
  compressor: string;
}

/** `BIGINT` columns come back as strings (they can exceed 2^53); ours hold Unix milliseconds. */
function instant(column: string | null): number | undefined {
  return column === null ? undefined : Number(column);
}

/** A `Buffer` over exactly the bytes of `bytes`, without copying: `Buffer.from(bytes.buffer)` would take them all. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The raw level of the PostgreSQL backend: one row per entry, keyed by the encoded key bytes, with the expire and
 * stale instants and the ids of the format and compressor that wrote it beside the data. The table is created on
 * first use, once per process even when many calls race, and safely when many processes race.
 */
export class PgStore implements Backend {
  /** Name in errors. */
  readonly label: BackendLabel;
  /** The format the typed level serializes data with. */
  readonly valueFormat: Format;
  /** How keys become the primary-key bytes. */
  readonly keyFormat: KeyFormat;
  /** The compressor applied after serialization. */
  readonly compressor: Compressor;
  readonly #config: PgStoreConfig;
  readonly #sql: Statements;
  #ready: Promise<void> | undefined;
  #closed = false;

  constructor(config: PgStoreConfig) {
    this.#config = config;
    this.#sql = statements(config.table, config.schema);
    this.label = config.label;
    this.valueFormat = config.valueFormat;
    this.keyFormat = config.keyFormat;
    this.compressor = config.compressor;
  }

  /** Reads the live entry at `key`; an expired row is a miss even before a sweep removes it. */
  async read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    const rows = await this.#query<Row>('read', key, this.#sql.read, [
      this.#key(key, 'read'),
      this.#config.now(),
    ]);
    const row = rows[0];
    if (row === undefined) return undefined;
    if (row.format !== this.valueFormat.id || row.compressor !== this.compressor.id) {
      throw new CacheError(
        'CODEC_MISMATCH',
        `entry was written with format "${row.format}" and compressor "${row.compressor}", ` +
          `this backend reads "${this.valueFormat.id}" and "${this.compressor.id}"`,
        { key: key.canonical, backend: this.label, operation: 'read' },
      );
    }
    const data = new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength);
    return new CacheValue(data, instant(row.expire), instant(row.stale));
  }

  /** Replaces the whole entry at `key` in one statement; an expired value removes it instead. */
  async write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    const keyBytes = this.#key(key, 'write');
    if (value.isExpired(this.#config.now())) {
      await this.#query('write', key, this.#sql.remove, [keyBytes, this.#config.now()]);
      return;
    }
    if (value.data.byteLength > this.#config.maxValueBytes) {
      throw new CacheError(
        'VALUE_TOO_LARGE',
        `value of ${value.data.byteLength} bytes exceeds maxValueBytes (${this.#config.maxValueBytes})`,
        { key: key.canonical, backend: this.label, operation: 'write' },
      );
    }
    await this.#query('write', key, this.#sql.upsert, [
      keyBytes,
      asBuffer(value.data),
      value.expire ?? null,
      value.stale ?? null,
      this.valueFormat.id,
      this.compressor.id,
    ]);
  }

  /** Removes the row at `key`; an expired row is removed too, but reported as `missing`. */
  async remove(key: CacheKey): Promise<DeleteStatus> {
    const rows = await this.#query<{ live: boolean }>('remove', key, this.#sql.remove, [
      this.#key(key, 'remove'),
      this.#config.now(),
    ]);
    return rows[0]?.live === true ? DeleteStatus.deleted(1) : DeleteStatus.missing;
  }

  /** Deletes expired rows in batches until none is left; resolves with how many it deleted. */
  async sweep(): Promise<number> {
    await this.#ensureTable();
    let removed = 0;
    for (;;) {
      const result = await this.#run('remove', undefined, this.#sql.sweep, [
        this.#config.now(),
        this.#config.sweepBatch,
      ]);
      removed += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < this.#config.sweepBatch) return removed;
    }
  }

  /** Makes every later call fail with `CLOSED`, and ends the pool when the backend created it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ready?.catch(() => undefined);
    if (this.#config.ownsPool) await this.#config.pool.end();
  }

  #key(key: CacheKey, operation: CacheOperation): Buffer {
    try {
      return asBuffer(this.keyFormat.encode(key));
    } catch (error) {
      throw CacheError.wrap(error, 'INVALID_KEY', `key format "${this.keyFormat.id}" failed`, {
        key: key.canonical,
        backend: this.label,
        operation,
      });
    }
  }

  async #query<R>(
    operation: CacheOperation,
    key: CacheKey,
    sql: string,
    values: readonly unknown[],
  ): Promise<R[]> {
    await this.#ensureTable();
    return (await this.#run(operation, key, sql, values)).rows as R[];
  }

  async #run(operation: CacheOperation, key: CacheKey | undefined, sql: string, values: readonly unknown[]) {
    if (this.#closed) throw new CacheError('CLOSED', 'backend is closed', { backend: this.label, operation });
    try {
      return await this.#config.pool.query(sql, [...values]);
    } catch (error) {
      throw CacheError.wrap(error, 'BACKEND', `PostgreSQL ${operation} failed`, {
        ...(key && { key: key.canonical }),
        backend: this.label,
        operation,
      });
    }
  }

  /**
   * Creates the table on first use. Calls in this process share one attempt (and retry after a failure);
   * processes racing on a new database take a transaction-scoped advisory lock first, because two concurrent
   * `CREATE TABLE IF NOT EXISTS` can still fail on PostgreSQL's catalog (`pg_type_typname_nsp_index`).
   */
  #ensureTable(): Promise<void> {
    if (this.#ready === undefined) {
      const attempt = this.#createTable();
      this.#ready = attempt;
      attempt.catch(() => {
        if (this.#ready === attempt) this.#ready = undefined;
      });
    }
    return this.#ready;
  }

  async #createTable(): Promise<void> {
    if (this.#closed) throw new CacheError('CLOSED', 'backend is closed', { backend: this.label });
    const { schema, table } = this.#config;
    let client: PoolClient | undefined;
    try {
      client = await this.#config.pool.connect();
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `cache-backend-postgres:${schema ?? ''}.${table}`,
      ]);
      await client.query(this.#sql.create);
      await client.query('COMMIT');
    } catch (error) {
      await client?.query('ROLLBACK').catch(() => undefined);
      throw CacheError.wrap(error, 'BACKEND', `creating table "${table}" failed`, { backend: this.label });
    } finally {
      client?.release();
    }
  }
}
