import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { conformanceCases, runBackendConformance } from '@cache/backend-tests';
import type { Format } from '@cache/core';
import { createPgBackend, type PgBackend, type PgBackendOptions } from '../src/index.js';
import { findPostgres } from './postgres.js';

const MAX_VALUE_BYTES = 8 * 1024 * 1024;
const found = await findPostgres();

/** `Uint8Array` data stored raw behind a tag byte, anything else as JSON: the binary half of the suite. */
const jsonOrBytes: Format = {
  id: 'json-or-bytes',
  serialize(value) {
    const raw = value instanceof Uint8Array;
    const body = raw
      ? value
      : new TextEncoder().encode(
          JSON.stringify(value, (_, v: unknown) =>
            v instanceof Uint8Array ? { $bytes: Buffer.from(v).toString('base64') } : v,
          ),
        );
    const out = new Uint8Array(body.length + 1);
    out[0] = raw ? 1 : 0;
    out.set(body, 1);
    return out;
  },
  deserialize(bytes) {
    const body = bytes.subarray(1);
    if (bytes[0] === 1) return body.slice();
    return JSON.parse(new TextDecoder().decode(body), (_, v: unknown) => {
      const tagged = v as { $bytes?: unknown } | null;
      return typeof tagged?.$bytes === 'string' && Object.keys(v as object).length === 1
        ? new Uint8Array(Buffer.from(tagged.$bytes, 'base64'))
        : v;
    });
  },
};

if ('skip' in found) {
  it('cache-backend-postgres conformance', { skip: found.skip }, () => {});
} else {
  const { db } = found;
  after(() => db.drop());
  const options = (table: string, extra: Partial<PgBackendOptions> = {}) => ({
    pool: db.pool,
    schema: db.schema,
    table,
    maxValueBytes: MAX_VALUE_BYTES,
    format: jsonOrBytes,
    ...extra,
  });
  const exists = async (backend: PgBackend, table: string, key: Parameters<PgBackend['get']>[0]) => {
    // Expired rows go when read, deleted or swept: the inspector reports what a sweep leaves behind.
    await backend.sweep();
    const { rowCount } = await db.pool.query(`SELECT 1 FROM "${db.schema}"."${table}" WHERE key = $1`, [
      Buffer.from(backend.storeKey(key)),
    ]);
    return rowCount === 1;
  };
  const shared = {
    runner: { describe, it },
    destroy: (backend: PgBackend) => backend.close(),
    raw: (backend: PgBackend) => backend.store,
    capabilities: { expiryPrecisionMs: 0, maxValueBytes: MAX_VALUE_BYTES, losslessKeys: true },
    // The size cases' data must take exactly `bytes` once serialized: one tag byte.
    valueOfSize: (bytes: number) => new Uint8Array(bytes - 1).fill(0xa5),
  };

  // Every backend of the run on one table, as the processes of an application share one.
  runBackendConformance<PgBackend>({
    ...shared,
    name: 'cache-backend-postgres',
    create: () => createPgBackend(options('entries')),
    inspect: { exists: (backend, key) => exists(backend, 'entries', key) },
  });

  describe('the shared table after the suite', () => {
    it('holds no row: the suite deleted every key it wrote', async () => {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}"."entries"`);
      assert.equal(rows[0].n, 0);
    });
  });

  // The first-use case again on tables nobody has created yet, so that the fresh backends really race to
  // create one (on the shared table above it already exists by the time the case runs).
  describe('first use on a new table', () => {
    for (let round = 0; round < 3; round++) {
      const table = `first_use_${round}`;
      const [firstUse] = conformanceCases<PgBackend>({
        ...shared,
        name: 'cache-backend-postgres (new table)',
        create: () => createPgBackend(options(table)),
      }).filter((c) => c.id === 'fresh-backends-first-use');
      it(`${firstUse!.title} (round ${round + 1})`, () => firstUse!.run());
    }
  });
}
