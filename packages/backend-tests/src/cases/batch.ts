import {
  type Awaitable,
  type BatchDelete,
  type BatchEntry,
  type BatchRead,
  type BatchWrite,
  type CacheBackend,
  CacheError,
  type CacheKey,
  CacheValue,
  deleteEach,
  deleteMany,
  getEach,
  getMany,
  type ReadInfo,
  setEach,
  setMany,
} from '@cache/core';
import { expectEqual, expectMiss, expectSame, expectWithin, fail, show, showKey } from '../assert.js';
import type { CaseContext } from '../case-context.js';
import type { CaseDefinition, CaseFactory } from './case-definition.js';

/**
 * How a case calls the batch operations: through the helpers (the backend's own methods when it has them), or
 * through the generic fallback over its single operations.
 */
interface BatchCalls {
  readonly name: 'own methods or helpers' | 'fallback over single operations';
  getMany<T>(backend: CacheBackend, keys: readonly CacheKey[], infos?: ReadInfo[]): Awaitable<BatchRead<T>[]>;
  setMany<T>(backend: CacheBackend, entries: readonly BatchEntry<T>[]): Awaitable<BatchWrite[]>;
  deleteMany(backend: CacheBackend, keys: readonly CacheKey[]): Awaitable<BatchDelete[]>;
}

const OWN: BatchCalls = { name: 'own methods or helpers', getMany, setMany, deleteMany };
const FALLBACK: BatchCalls = {
  name: 'fallback over single operations',
  getMany: getEach,
  setMany: setEach,
  deleteMany: deleteEach,
};

const MANY = 60;

/** Fails unless the result has one position per key. */
function expectPositions(results: unknown, count: number, what: string): asserts results is unknown[] {
  if (!Array.isArray(results)) fail(`${what}: expected an array of ${count} positions, got ${show(results)}`);
  expectSame(results.length, count, `${what}: number of positions`);
}

function expectHitAt<T>(result: BatchRead<T>, what: string): CacheValue<T> {
  if (CacheError.is(result)) fail(`${what}: expected a hit, got the error ${result.code}: ${result.message}`);
  if (result === undefined) fail(`${what}: expected a hit, got a miss`);
  return result;
}

function expectStored(outcomes: unknown, count: number, what: string): void {
  expectPositions(outcomes, count, what);
  outcomes.forEach((outcome, i) => {
    if (outcome !== undefined)
      fail(`${what}: position ${i} should be stored (undefined), got ${show(outcome)}`);
  });
}

/** Writes through `calls`, remembering the keys so the suite cleans them up. */
async function write<T>(
  t: CaseContext,
  calls: BatchCalls,
  entries: readonly BatchEntry<T>[],
): Promise<BatchWrite[]> {
  for (const entry of entries) t.remember(entry.key);
  return await calls.setMany(t.backend, entries);
}

function casesFor(calls: BatchCalls, binary: boolean): CaseDefinition[] {
  const group = `batch (${calls.name})`;
  const id = (name: string): string => `batch-${name}${calls === OWN ? '' : '-fallback'}`;
  const cases: CaseDefinition[] = [
    {
      id: id('order'),
      group,
      title: `setMany then getMany of ${MANY} keys: one position per key, in the order asked, data and metadata`,
      async run(t) {
        const now = Date.now();
        const keys = Array.from({ length: MANY }, (_, i) => t.key('item', String(i)));
        const entries = keys.map((key, i) => ({
          key,
          value: new CacheValue({ i, text: `value-${i}` }, now + 600_000 + i, now + 300_000 + i),
        }));
        expectStored(await write(t, calls, entries), MANY, 'setMany');
        const order = keys.map((_, i) => (i * 7) % MANY);
        const results = await calls.getMany<{ i: number }>(
          t.backend,
          order.map((i) => keys[i] as CacheKey),
        );
        expectPositions(results, MANY, 'getMany');
        order.forEach((i, position) => {
          const what = `getMany position ${position} (${showKey(keys[i] as CacheKey)})`;
          const got = expectHitAt(results[position] as BatchRead<{ i: number }>, what);
          expectEqual(got.data, { i, text: `value-${i}` }, what);
          expectSame(got.stale, now + 300_000 + i, `${what}: stale`);
          expectWithin(got.expire, now + 600_000 + i, t.caps.expiryPrecisionMs, `${what}: expire`);
        });
      },
    },
    {
      id: id('missing-and-duplicates'),
      group,
      title:
        'getMany answers misses with undefined and a repeated key in every position; info.source is set on hits only',
      async run(t) {
        const a = t.key('a');
        const b = t.key('b');
        const none = t.key('never-written');
        expectStored(
          await write(t, calls, [
            { key: a, value: new CacheValue('A') },
            { key: b, value: new CacheValue('B') },
          ]),
          2,
          'setMany',
        );
        const infos: ReadInfo[] = [{}, {}, {}, {}, {}];
        const results = await calls.getMany<string>(t.backend, [b, none, a, b, none], infos);
        expectPositions(results, 5, 'getMany');
        expectSame(expectHitAt(results[0] as BatchRead<string>, 'position 0').data, 'B', 'position 0');
        expectMiss(results[1], 'position 1 (never written)');
        expectSame(expectHitAt(results[2] as BatchRead<string>, 'position 2').data, 'A', 'position 2');
        expectSame(
          expectHitAt(results[3] as BatchRead<string>, 'position 3').data,
          'B',
          'position 3 (repeated)',
        );
        expectMiss(results[4], 'position 4 (never written, repeated)');
        for (const i of [0, 2, 3]) {
          const source = infos[i]?.source;
          if (typeof source !== 'string' || source === '')
            fail(`infos[${i}].source after a hit: got ${show(source)}`);
        }
        expectSame(infos[1]?.source, undefined, 'infos[1].source after a miss');
        const empty = await calls.getMany(t.backend, []);
        expectPositions(empty, 0, 'getMany of no keys');
      },
    },
    {
      id: id('last-write-wins'),
      group,
      title:
        'setMany of a repeated key stores the last entry, whole (no metadata of an earlier entry or write)',
      async run(t) {
        const key = t.key('repeated');
        const now = Date.now();
        await t.set(key, new CacheValue('before', now + 900_000, now + 100_000));
        const outcomes = await write(t, calls, [
          { key, value: new CacheValue('first', now + 800_000, now + 200_000) },
          { key: t.key('other'), value: new CacheValue('other') },
          { key, value: new CacheValue('last') },
        ]);
        expectStored(outcomes, 3, 'setMany');
        const [got] = await calls.getMany<string>(t.backend, [key]);
        const value = expectHitAt(got as BatchRead<string>, `getMany of ${showKey(key)}`);
        expectSame(value.data, 'last', 'data');
        expectSame(value.stale, undefined, 'stale (none in the last entry)');
        expectSame(value.expire, undefined, 'expire (none in the last entry)');
      },
    },
    {
      id: id('expired-entry'),
      group,
      title: 'an already expired value in setMany removes the entry at its key, the others are stored',
      async run(t) {
        const gone = t.key('gone');
        const kept = t.key('kept');
        await t.set(gone, new CacheValue('here'));
        const outcomes = await write(t, calls, [
          { key: gone, value: new CacheValue('late', Date.now() - 1000) },
          { key: kept, value: new CacheValue('kept') },
        ]);
        expectStored(outcomes, 2, 'setMany');
        const results = await calls.getMany<string>(t.backend, [gone, kept]);
        expectMiss(results[0], `read of ${showKey(gone)}`);
        expectSame(
          expectHitAt(results[1] as BatchRead<string>, `read of ${showKey(kept)}`).data,
          'kept',
          'kept',
        );
        await t.expectNothingStored(gone, 'after setMany of an expired value');
      },
    },
    {
      id: id('delete'),
      group,
      title:
        'deleteMany reports each key as delete would, a repeated key "missing" after its first position; reads then miss',
      async run(t) {
        const a = t.key('a');
        const b = t.key('b');
        const none = t.key('never-written');
        await write(t, calls, [
          { key: a, value: new CacheValue(1) },
          { key: b, value: new CacheValue(2) },
        ]);
        const statuses = await calls.deleteMany(t.backend, [a, none, a, b]);
        expectPositions(statuses, 4, 'deleteMany');
        const at = (i: number) => {
          const status = statuses[i];
          if (CacheError.is(status))
            fail(`deleteMany position ${i}: error ${status.code}: ${status.message}`);
          return status as Exclude<BatchDelete, CacheError>;
        };
        t.expectDeleted(at(0), a, 'deleteMany position 0');
        t.expectMissing(at(1), none, 'deleteMany position 1');
        t.expectMissing(at(2), a, 'deleteMany position 2 (repeated)');
        t.expectDeleted(at(3), b, 'deleteMany position 3');
        const results = await calls.getMany(t.backend, [a, b]);
        expectMiss(results[0], `read of ${showKey(a)} after deleteMany`);
        expectMiss(results[1], `read of ${showKey(b)} after deleteMany`);
        await t.expectNothingStored(a, 'after deleteMany');
      },
    },
  ];
  if (binary) {
    cases.push({
      id: id('binary'),
      group,
      title: 'binary data (every byte value, empty, large) round-trips through setMany and getMany',
      async run(t) {
        const all = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
        const values = [all, new Uint8Array(0), t.valueOfSize(64 * 1024), Uint8Array.of(0, 0, 0)];
        const keys = values.map((_, i) => t.key('bytes', String(i)));
        expectStored(
          await write(
            t,
            calls,
            keys.map((key, i) => ({ key, value: new CacheValue(values[i]) })),
          ),
          values.length,
          'setMany',
        );
        const results = await calls.getMany(t.backend, keys);
        expectPositions(results, values.length, 'getMany');
        results.forEach((result, i) => {
          const what = `getMany position ${i} (${showKey(keys[i] as CacheKey)})`;
          expectEqual(expectHitAt(result as BatchRead<unknown>, what).data, values[i], what);
        });
      },
    });
  }
  if (calls === FALLBACK) {
    cases.push({
      id: id('partial-failure'),
      group,
      title: 'a key whose single read fails holds its error in its position; the other keys are answered',
      async run(t) {
        const good = t.key('good');
        const bad = t.key('bad');
        await t.set(good, new CacheValue('fine'));
        await t.set(bad, new CacheValue('unreachable'));
        const backend = t.backend;
        const failing: CacheBackend = {
          label: backend.label,
          get: (key, info) => {
            if (key.canonical === bad.canonical)
              throw new CacheError('CONNECTION', 'injected: this key fails');
            return backend.get(key, info);
          },
          set: (key, value) => backend.set(key, value),
          delete: (key) => backend.delete(key),
        };
        const results = await calls.getMany<string>(failing, [good, bad, t.key('none')]);
        expectPositions(results, 3, 'getMany');
        expectSame(expectHitAt(results[0] as BatchRead<string>, 'position 0').data, 'fine', 'position 0');
        if (!CacheError.is(results[1], 'CONNECTION')) {
          fail(`position 1: expected the CONNECTION error of its read, got ${show(results[1])}`);
        }
        expectMiss(results[2], 'position 2');
      },
    });
  }
  // Titles are test names: the fallback's say so, so that no two tests of a backend share a name.
  return calls === OWN ? cases : cases.map((c) => ({ ...c, title: `${c.title} (fallback)` }));
}

/**
 * Batch operations, twice: through the `getMany`/`setMany`/`deleteMany` helpers, which call the backend's own
 * methods when it has them (a backend without them gets the fallback there too), and through the generic
 * fallback over single operations, which every backend gets for free.
 */
export const batchCases: CaseFactory = (caps) => [
  ...casesFor(OWN, caps.binaryData),
  ...casesFor(FALLBACK, caps.binaryData),
];
