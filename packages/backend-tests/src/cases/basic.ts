import { CacheValue, type ReadInfo } from '@cache/core';
import { expectEqual, expectHit, expectMiss, expectSame, fail, show, showKey } from '../assert.js';
import type { CaseDefinition, CaseFactory } from './case-definition.js';

const MANY_KEYS = 1000;
const BATCH = 100;

/** Reads, writes and deletes of single entries, and many entries side by side. */
export const basicCases: CaseFactory = () => {
  const readWrite = 'read and write';
  const del = 'delete';
  const cases: CaseDefinition[] = [
    {
      id: 'write-read',
      group: readWrite,
      title: 'a value written is read back with the same data',
      async run(t) {
        const key = t.key('user', '42');
        const data = { id: 42, name: 'Ada', tags: ['admin', 'dev'] };
        await t.set(key, new CacheValue(data));
        const got = expectHit(await t.get(key), `read of ${showKey(key)} after set`);
        expectEqual(got.data, data, `read of ${showKey(key)}`);
      },
    },
    {
      id: 'read-missing',
      group: readWrite,
      title: 'reading a key never written is a miss (undefined)',
      async run(t) {
        const key = t.key('never-written');
        expectMiss(await t.get(key), `read of ${showKey(key)}`);
      },
    },
    {
      id: 'info-source-hit',
      group: readWrite,
      title: 'get with an info object sets info.source to a non-empty label on a hit',
      async run(t) {
        const key = t.key('with-info');
        await t.set(key, new CacheValue('hello'));
        const info: ReadInfo = {};
        expectHit(await t.get(key, info), `read of ${showKey(key)} with info`);
        if (typeof info.source !== 'string' || info.source === '') {
          fail(
            `info.source after a hit on ${showKey(key)}: expected a non-empty label, got ${show(info.source)}`,
          );
        }
      },
    },
    {
      id: 'info-source-miss',
      group: readWrite,
      title: 'get with an info object leaves info.source undefined on a miss',
      async run(t) {
        const key = t.key('missing-with-info');
        const info: ReadInfo = {};
        expectMiss(await t.get(key, info), `read of ${showKey(key)} with info`);
        expectSame(info.source, undefined, `info.source after a miss on ${showKey(key)}`);
      },
    },
    {
      id: 'many-keys',
      group: readWrite,
      title: `${MANY_KEYS} distinct keys each read back their own data and metadata`,
      async run(t) {
        const base = Date.now() + 600_000;
        const keys = Array.from({ length: MANY_KEYS }, (_, i) => t.keyFrom([['item', String(i)]]));
        for (let start = 0; start < MANY_KEYS; start += BATCH) {
          const writes = keys
            .slice(start, start + BATCH)
            .map((key, j) =>
              t.set(
                key,
                new CacheValue({ i: start + j, text: `value-${start + j}` }, undefined, base + start + j),
              ),
            );
          await Promise.all(writes);
        }
        for (let start = 0; start < MANY_KEYS; start += BATCH) {
          const reads = await Promise.all(keys.slice(start, start + BATCH).map((key) => t.get(key)));
          reads.forEach((value, j) => {
            const i = start + j;
            const what = `read of ${showKey(keys[i]!)}`;
            const got = expectHit(value, what);
            expectEqual(got.data, { i, text: `value-${i}` }, what);
            expectSame(got.stale, base + i, `${what}: stale`);
          });
        }
      },
    },
    {
      id: 'delete-existing',
      group: del,
      title:
        'deleting an entry reports "deleted" with count 1, after which reads miss and a second delete is "missing"',
      async run(t) {
        const key = t.key('doomed');
        const survivor = t.key('survivor');
        await t.set(key, new CacheValue('bye', Date.now() + 600_000, Date.now() + 300_000));
        await t.set(survivor, new CacheValue('stays'));
        t.expectDeleted(await t.delete(key), key, 'first delete');
        expectMiss(await t.get(key), `read of ${showKey(key)} after delete`);
        await t.expectNothingStored(key, 'after delete');
        t.expectMissing(await t.delete(key), key, 'second delete');
        const other = expectHit(
          await t.get(survivor),
          `read of ${showKey(survivor)} after deleting another key`,
        );
        expectEqual(other.data, 'stays', `read of ${showKey(survivor)}`);
      },
    },
    {
      id: 'delete-missing',
      group: del,
      title: 'deleting a key never written reports "missing"',
      async run(t) {
        const key = t.key('never-written');
        t.expectMissing(await t.delete(key), key, 'delete of a missing key');
        expectMiss(await t.get(key), `read of ${showKey(key)} after delete`);
      },
    },
  ];
  return cases;
};
