import {
  type Backend,
  type BackendCapabilities,
  type BackendLabel,
  bitcode,
  CacheError,
  type CacheKey,
  type Compressor,
  type Format,
  type KeyFormat,
  passthrough,
  TypedBackend,
  type TypedLayerOptions,
} from '@cache/core';
import pg from 'pg';
import { json } from './json-format.js';
import { PgStore } from './pg-store.js';

/** Options of {@link createPgBackend}. Give `pool` or `connectionString`. */
export interface PgBackendOptions extends TypedLayerOptions {
  /** A pool you own and close yourself: the backend only borrows connections from it. */
  readonly pool?: pg.Pool;
  /** Where to connect when no `pool` is given; the backend then owns its pool and ends it on `close()`. */
  readonly connectionString?: string;
  /**
   * Table of entries, created on first use.
   * @default "cache_entries"
   */
  readonly table?: string;
  /**
   * Schema of the table; it must exist.
   * @default undefined (the connection's search path, usually "public")
   */
  readonly schema?: string;
  /**
   * Name in reports and errors.
   * @default "postgres"
   */
  readonly label?: BackendLabel;
  /**
   * How values become bytes. JSON keeps this package free of other `@cache` dependencies; pass CBOR from
   * `@cache/formats` for `Date`, `Map` or binary data.
   * @default json
   */
  readonly format?: Format;
  /**
   * Applied to the serialized bytes before they are written.
   * @default passthrough
   */
  readonly compressor?: Compressor;
  /**
   * How keys become the `BYTEA` primary key. `bitcode` is compact and lossless: `null` and `""` part values, and
   * any part name, stay distinct. `urlEncoded` is readable but lossy.
   * @default bitcode
   */
  readonly keyFormat?: KeyFormat;
  /**
   * Largest value, in bytes after serialization and compression, that a write accepts (`VALUE_TOO_LARGE` above).
   * @default 67108864 (64 MiB)
   */
  readonly maxValueBytes?: number;
  /**
   * Rows one `DELETE` of a sweep removes, so a sweep never holds many row locks at once.
   * @default 1000
   */
  readonly sweepBatch?: number;
}

const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;
/** PostgreSQL's limit of one field. */
const LARGEST_MAX_VALUE_BYTES = 1024 * 1024 * 1024 - 1;

function positiveInteger(value: number | undefined, fallback: number, name: string, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved <= 0 || resolved > max) {
    throw new CacheError('INVALID_OPTIONS', `${name} must be an integer from 1 to ${max}`);
  }
  return resolved;
}

/**
 * A cache backend on PostgreSQL: one row per entry, replaced whole by an upsert, expiry honoured on every read,
 * and a {@link PgBackend.sweep} for expired rows nobody reads again. Many processes may share one table.
 */
export class PgBackend extends TypedBackend {
  /** Name in reports and errors. */
  readonly label: BackendLabel;
  /** What this backend promises, for the conformance suite and compositions. */
  readonly capabilities: BackendCapabilities;
  readonly #store: PgStore;

  constructor(options: PgBackendOptions) {
    super(options);
    if ((options.pool === undefined) === (options.connectionString === undefined)) {
      throw new CacheError('INVALID_OPTIONS', 'give exactly one of pool and connectionString');
    }
    const maxValueBytes = positiveInteger(
      options.maxValueBytes,
      DEFAULT_MAX_VALUE_BYTES,
      'maxValueBytes',
      LARGEST_MAX_VALUE_BYTES,
    );
    const keyFormat = options.keyFormat ?? bitcode;
    this.label = options.label ?? 'postgres';
    this.capabilities = Object.freeze({
      expiryPrecisionMs: 0,
      maxValueBytes,
      losslessKeys: keyFormat.lossless,
    });
    this.#store = new PgStore({
      pool: options.pool ?? new pg.Pool({ connectionString: options.connectionString }),
      ownsPool: options.pool === undefined,
      table: options.table ?? 'cache_entries',
      schema: options.schema,
      label: this.label,
      valueFormat: options.format ?? json,
      keyFormat,
      compressor: options.compressor ?? passthrough,
      maxValueBytes,
      sweepBatch: positiveInteger(options.sweepBatch, 1000, 'sweepBatch', 1_000_000),
      now: options.now ?? Date.now,
    });
  }

  /** The raw level (bytes and metadata), for tools and the conformance suite's `raw` option. */
  get store(): PgStore {
    return this.#store;
  }

  protected get raw(): Backend {
    return this.#store;
  }

  /** Deletes every expired row, also ones nobody reads again; resolves with how many. Run it on a schedule. */
  sweep(): Promise<number> {
    return this.#store.sweep();
  }

  /** Makes every later call fail with `CLOSED`; ends the pool when the backend created it. */
  close(): Promise<void> {
    return this.#store.close();
  }

  /** The primary-key bytes of `key`, e.g. to look at its row with `psql`. */
  storeKey(key: CacheKey): Uint8Array {
    return this.#store.keyFormat.encode(key);
  }
}

/** Creates a {@link PgBackend}. */
export function createPgBackend(options: PgBackendOptions): PgBackend {
  return new PgBackend(options);
}
