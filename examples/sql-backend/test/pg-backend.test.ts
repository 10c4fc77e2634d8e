import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CacheError, CacheKey, CacheValue, type Format } from '@cache/core';
import { createPgBackend, type PgBackendOptions } from '../src/index.js';
import { findPostgres } from './postgres.js';

const found = await findPostgres();

describe('createPgBackend options', () => {
  it('needs exactly one of pool and connectionString', () => {
    assert.throws(
      () => createPgBackend({}),
      (error) => CacheError.is(error, 'INVALID_OPTIONS'),
    );
  });

  it('accepts only plain identifiers as table and schema names', () => {
    for (const table of ['entries; DROP TABLE users', 'a"b', '', 'x'.repeat(64)]) {
      assert.throws(
        () => createPgBackend({ connectionString: 'postgres://localhost/x', table }),
        (error) => CacheError.is(error, 'INVALID_OPTIONS'),
      );
    }
  });
});

if ('skip' in found) {
  it('cache-backend-postgres against PostgreSQL', { skip: found.skip }, () => {});
} else {
  const { db } = found;
  after(() => db.drop());
  let tables = 0;
  /** A backend on a table of its own, with a clock the test moves by hand. */
  const fresh = (extra: Partial<PgBackendOptions> = {}) => {
    const clock = { now: 1_700_000_000_000 };
    const table = `t${++tables}`;
    const options = { pool: db.pool, schema: db.schema, table, now: () => clock.now, ...extra };
    return { backend: createPgBackend(options), clock, table, options };
  };
  const rows = async (table: string) =>
    (await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}"."${table}"`)).rows[0].n as number;
  const key = CacheKey.from({ user: '42' }, { prefix: 'profiles' });

  describe('cache-backend-postgres against PostgreSQL', () => {
    it('creates its table on first use and stores one row per entry', async () => {
      const { backend, table } = fresh();
      await backend.set(key, new CacheValue({ name: 'Ada' }));
      await backend.set(key, new CacheValue({ name: 'Grace' }));
      assert.deepEqual((await backend.get(key))?.data, { name: 'Grace' });
      assert.equal(await rows(table), 1);
    });

    it('hides an expired row from reads at once, and sweep() deletes expired rows nobody reads', async () => {
      const { backend, clock, table } = fresh();
      await backend.set(key, new CacheValue('short', clock.now + 1000));
      await backend.set(CacheKey.of('user', '7'), new CacheValue('long', clock.now + 60_000));
      await backend.set(CacheKey.of('user', '8'), new CacheValue('forever'));
      clock.now += 1000;
      assert.equal(await backend.get(key), undefined);
      assert.equal(await rows(table), 3, 'reads hide expired rows; only a sweep or a delete removes them');
      assert.equal(await backend.sweep(), 1);
      assert.equal(await rows(table), 2);
      clock.now += 60_000;
      assert.equal(await backend.sweep(), 1);
      assert.deepEqual((await backend.get(CacheKey.of('user', '8')))?.data, 'forever');
    });

    it('sweeps in batches', async () => {
      const { backend, clock, table } = fresh({ sweepBatch: 7 });
      for (let i = 0; i < 30; i++)
        await backend.set(CacheKey.of('n', String(i)), new CacheValue(i, clock.now + 10));
      clock.now += 10;
      assert.equal(await backend.sweep(), 30);
      assert.equal(await rows(table), 0);
    });

    it('reports an entry written with another format as CODEC_MISMATCH, never as a wrong value', async () => {
      const { options } = fresh();
      const writer = createPgBackend(options);
      await writer.set(key, new CacheValue({ name: 'Ada' }));
      const other: Format = { id: 'other', serialize: () => new Uint8Array(1), deserialize: () => 'wrong' };
      const reader = createPgBackend({ ...options, format: other });
      await assert.rejects(
        async () => reader.get(key),
        (error) => CacheError.is(error, 'CODEC_MISMATCH') && /format "json"/.test((error as Error).message),
      );
    });

    it('keeps null and "" part values apart with the default bitcode keys', async () => {
      const { backend } = fresh();
      await backend.set(CacheKey.of('id', null), new CacheValue('null'));
      await backend.set(CacheKey.of('id', ''), new CacheValue('empty'));
      assert.equal((await backend.get(CacheKey.of('id', null)))?.data, 'null');
      assert.equal((await backend.get(CacheKey.of('id', '')))?.data, 'empty');
    });

    it('fails with VALUE_TOO_LARGE over maxValueBytes and with CLOSED after close()', async () => {
      const { backend } = fresh({ maxValueBytes: 10 });
      await assert.rejects(
        async () => backend.set(key, new CacheValue('x'.repeat(20))),
        (error) => CacheError.is(error, 'VALUE_TOO_LARGE'),
      );
      await backend.close();
      await assert.rejects(
        async () => backend.get(key),
        (error) => CacheError.is(error, 'CLOSED'),
      );
    });

    it('ends a pool it created on close(), and leaves a pool it was given open', async () => {
      const own = createPgBackend({
        connectionString: db.connectionString,
        schema: db.schema,
        table: 'own_pool',
      });
      await own.set(key, new CacheValue(1));
      await own.close();
      assert.equal((await db.pool.query('SELECT 1 AS one')).rows[0].one, 1);
    });
  });
}
