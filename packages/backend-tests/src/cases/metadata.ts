import { type CacheKey, CacheValue } from '@cache/core';
import { expectEqual, expectHit, expectSame, expectWithin, showKey } from '../assert.js';
import type { CaseContext } from '../case-context.js';
import type { CaseDefinition, CaseFactory } from './case-definition.js';

/** Reads `key` and checks data, stale (exactly) and expire (within the declared precision). */
async function expectStored(
  t: CaseContext,
  key: CacheKey,
  expected: CacheValue<unknown>,
  what: string,
): Promise<void> {
  const label = `${what}: read of ${showKey(key)}`;
  const got = expectHit(await t.get(key), label);
  expectEqual(got.data, expected.data, label);
  expectSame(got.stale, expected.stale, `${label}: stale`);
  if (expected.expire === undefined) {
    expectSame(got.expire, undefined, `${label}: expire`);
  } else {
    expectWithin(got.expire, expected.expire, t.caps.expiryPrecisionMs, `${label}: expire`);
  }
}

/** Metadata round-trips, and overwrites replacing the whole entry. */
export const metadataCases: CaseFactory = () => {
  const meta = 'metadata';
  const over = 'overwrite';
  const cases: CaseDefinition[] = [
    {
      id: 'no-metadata',
      group: meta,
      title: 'a value written without expire or stale reads back with both undefined',
      async run(t) {
        const key = t.key('plain');
        await expectStoredAfterSet(t, key, new CacheValue({ plain: true }), 'value without metadata');
      },
    },
    {
      id: 'metadata-round-trip',
      group: meta,
      title: 'stale round-trips to the millisecond and expire within expiryPrecisionMs, alone or together',
      async run(t) {
        const now = Date.now();
        // Odd offsets so that rounding to seconds or dropping milliseconds shows.
        await expectStoredAfterSet(
          t,
          t.key('both'),
          new CacheValue('both', now + 600_123, now + 300_457),
          'expire and stale',
        );
        await expectStoredAfterSet(
          t,
          t.key('stale-only'),
          new CacheValue('stale', undefined, now + 300_789),
          'stale only',
        );
        await expectStoredAfterSet(
          t,
          t.key('expire-only'),
          new CacheValue('expire', now + 600_321),
          'expire only',
        );
      },
    },
    {
      id: 'stale-after-expire',
      group: meta,
      title: 'a value whose stale instant is after its expire instant reads back unchanged',
      async run(t) {
        const now = Date.now();
        await expectStoredAfterSet(
          t,
          t.key('odd'),
          new CacheValue('odd', now + 600_011, now + 900_013),
          'stale > expire',
        );
      },
    },
    {
      id: 'overwrite-data',
      group: over,
      title: 'a second write replaces the data',
      async run(t) {
        const key = t.key('counter');
        await t.set(key, new CacheValue({ version: 1, items: ['a', 'b', 'c'] }));
        await expectStoredAfterSet(t, key, new CacheValue({ version: 2, items: ['d'] }), 'after overwrite');
      },
    },
    {
      id: 'overwrite-clears-metadata',
      group: over,
      title: 'an overwrite without expire or stale leaves none of the old metadata',
      async run(t) {
        const key = t.key('was-timed');
        const now = Date.now();
        await t.set(key, new CacheValue('old', now + 600_000, now + 300_000));
        await expectStoredAfterSet(t, key, new CacheValue('new'), 'overwrite without metadata');
      },
    },
    {
      id: 'overwrite-replaces-metadata',
      group: over,
      title:
        'an overwrite with new metadata replaces the old, also when it sets only one of expire and stale',
      async run(t) {
        const now = Date.now();
        const both = t.key('both-to-both');
        await t.set(both, new CacheValue('old', now + 600_000, now + 300_000));
        await expectStoredAfterSet(
          t,
          both,
          new CacheValue('new', now + 900_007, now + 450_003),
          'new expire and stale',
        );
        const staleToExpire = t.key('stale-to-expire');
        await t.set(staleToExpire, new CacheValue('old', undefined, now + 300_000));
        await expectStoredAfterSet(
          t,
          staleToExpire,
          new CacheValue('new', now + 600_005),
          'expire only over stale only',
        );
        const expireToStale = t.key('expire-to-stale');
        await t.set(expireToStale, new CacheValue('old', now + 600_000));
        await expectStoredAfterSet(
          t,
          expireToStale,
          new CacheValue('new', undefined, now + 300_009),
          'stale only over expire only',
        );
      },
    },
  ];
  return cases;
};

async function expectStoredAfterSet(
  t: CaseContext,
  key: CacheKey,
  value: CacheValue<unknown>,
  what: string,
): Promise<void> {
  await t.set(key, value);
  await expectStored(t, key, value, what);
}
