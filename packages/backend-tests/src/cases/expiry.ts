import { CacheValue } from '@cache/core';
import { expectEqual, expectHit, expectMiss, expectSame, fail, showKey } from '../assert.js';
import { EXPIRY_MARGIN_MS, sleep, sleepUntil } from '../case-context.js';
import type { CaseDefinition, CaseFactory } from './case-definition.js';

const SHORT_TTL_MS = 300;
const INSTANT_TTL_MS = 100;

/** Values really expire, are never served once expired, and leave nothing behind. */
export const expiryCases: CaseFactory = (caps) => {
  const group = 'expiry';
  const precision = caps.expiryPrecisionMs;
  const cases: CaseDefinition[] = [
    {
      id: 'short-ttl-expires',
      group,
      title: `a ${SHORT_TTL_MS} ms TTL expires: reads miss after it, nothing is left behind, and the key is reusable`,
      async run(t) {
        const key = t.key('short-lived');
        const value = new CacheValue({ short: 'lived' }, Date.now() + SHORT_TTL_MS);
        const expire = value.expire!;
        await t.set(key, value);
        const early = await t.get(key);
        // Only a read that finished well before the expiry has to hit; slow machines make no false failures.
        if (Date.now() < expire - precision) {
          expectEqual(
            expectHit(early, `read of ${showKey(key)} right after set`).data,
            value.data,
            'early read',
          );
        }
        await sleepUntil(expire + precision + EXPIRY_MARGIN_MS);
        await t.expectNothingStored(key, `${SHORT_TTL_MS} ms after the TTL`);
        expectMiss(await t.get(key), `read of ${showKey(key)} after its expiry`);
        t.expectMissing(await t.delete(key), key, 'delete after expiry (the expired entry must be gone)');
        await t.set(key, new CacheValue({ second: 'life' }));
        const reused = expectHit(await t.get(key), `read of ${showKey(key)} rewritten after expiry`);
        expectEqual(reused.data, { second: 'life' }, 'rewritten after expiry');
        expectSame(reused.expire, undefined, 'expire of the value rewritten without TTL');
        expectSame(reused.stale, undefined, 'stale of the value rewritten without TTL');
      },
    },
    {
      id: 'expired-never-returned',
      group,
      title: 'an expired value is never returned, not even when read at its expire instant',
      async run(t) {
        const key = t.key('edge');
        const value = new CacheValue('edge', Date.now() + INSTANT_TTL_MS);
        const expire = value.expire!;
        await t.set(key, value);
        if (Date.now() < expire - precision) {
          expectHit(await t.get(key), `read of ${showKey(key)} before its expiry`);
        }
        await sleepUntil(expire);
        const deadline = expire + precision + EXPIRY_MARGIN_MS;
        for (;;) {
          const before = Date.now();
          const got = await t.get(key);
          if (got !== undefined) {
            expectEqual(got.data, value.data, `read of ${showKey(key)} around its expiry`);
            if (got.expire === undefined || got.expire <= before) {
              fail(
                `read of ${showKey(key)} at ${before} returned a value that expired at ${got.expire ?? 'never'} ` +
                  `(written to expire at ${expire})`,
              );
            }
            if (before >= expire + precision) {
              fail(
                `read of ${showKey(key)} returned a value ${before - expire} ms after its expire instant ` +
                  `(expiryPrecisionMs is ${precision})`,
              );
            }
          }
          if (before > deadline) break;
          await sleep(1);
        }
        expectMiss(await t.get(key), `read of ${showKey(key)} after its expiry`);
      },
    },
    {
      id: 'set-expired-removes',
      group,
      title: 'setting an already-expired value removes the existing entry (and stores nothing for a new key)',
      async run(t) {
        const key = t.key('replaced-by-expired');
        await t.set(key, new CacheValue('alive'));
        expectHit(await t.get(key), `read of ${showKey(key)} before the expired write`);
        await t.set(key, new CacheValue('dead', Date.now() - 1000));
        expectMiss(await t.get(key), `read of ${showKey(key)} after writing an expired value over it`);
        await t.expectNothingStored(key, 'after writing an expired value');
        t.expectMissing(await t.delete(key), key, 'delete after writing an expired value');

        const fresh = t.key('born-expired');
        await t.set(fresh, new CacheValue('dead', Date.now() - 1000, Date.now() - 2000));
        expectMiss(await t.get(fresh), `read of ${showKey(fresh)} written already expired`);
        await t.expectNothingStored(fresh, 'after writing an expired value to a new key');
      },
    },
  ];
  return cases;
};
