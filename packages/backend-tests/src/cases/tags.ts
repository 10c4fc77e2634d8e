import { CacheValue } from '@cache/core';
import { expectEqual, expectHit, expectWithin, showKey } from '../assert.js';
import type { CaseDefinition, CaseFactory } from './case-definition.js';

const WEEK_MS = 7 * 24 * 3_600_000;

/**
 * What `@cache/cache`'s tags need from a backend, and nothing more: a tagged entry is an ordinary entry whose data
 * is an object (`{ "@cache/tags": [...], "@cache/at": <ms>, "data": ... }`), and a tag's invalidation instant is
 * a number (the namespace's change token a string) under reserved keys (prefix `@tags:<namespace>`, parts
 * `deleted=<tag>`, `expired=<tag>`, `changed`), kept for days.
 */
export const tagCases: CaseFactory = () => {
  const group = 'tags (@cache/cache)';
  const cases: CaseDefinition[] = [
    {
      id: 'tag-envelope-round-trip',
      group,
      title: 'a tagged entry (an object with "@cache/tags", "@cache/at" and "data") reads back equal',
      async run(t) {
        const key = t.key('tagged', 'user:42');
        const envelope = {
          '@cache/tags': ['user:42', 'org:9/team', 'ünïcødé tag'],
          '@cache/at': 1_764_000_000_123,
          data: { name: 'Ada', roles: ['admin'], score: 0.5, none: null },
        };
        await t.set(key, new CacheValue(envelope, Date.now() + 60_000));
        const got = expectHit(await t.get(key), `read of the tagged entry ${showKey(key)}`);
        expectEqual(got.data, envelope, `the tagged entry ${showKey(key)}`);
      },
    },
    {
      id: 'tag-instant-keys',
      group,
      title:
        'the reserved keys of tag instants are distinct entries: per tag, per mode, and the change token',
      async run(t) {
        const at = (name: string, tag: string | null) =>
          t.keyFrom([[name, tag]], { prefixSuffix: '@tags:app:' });
        const keys = [
          at('deleted', 'user:42'),
          at('expired', 'user:42'),
          at('deleted', 'user:4'),
          at('deleted', 'user:42:posts'),
          at('changed', null),
        ];
        const values: (number | string)[] = [1_764_000_000_001, 1_764_000_000_002, 3, 4, 'mabc.x1y2z3'];
        for (let i = 0; i < keys.length; i++) {
          await t.set(keys[i]!, new CacheValue(values[i], Date.now() + 60_000));
        }
        for (let i = 0; i < keys.length; i++) {
          const got = expectHit(await t.get(keys[i]!), `read of ${showKey(keys[i]!)}`);
          expectEqual(got.data, values[i], `the value at ${showKey(keys[i]!)}`);
        }
      },
    },
    {
      id: 'tag-instant-kept-for-days',
      group,
      title: 'an instant written to expire in 7 days is kept with that expire (long lifetimes are not cut)',
      async run(t) {
        const key = t.keyFrom([['deleted', 'long-lived']], { prefixSuffix: '@tags:app:' });
        const instant = Date.now();
        await t.set(key, new CacheValue(instant, instant + WEEK_MS));
        const got = expectHit(await t.get(key), `read of ${showKey(key)}`);
        expectEqual(got.data, instant, `the instant at ${showKey(key)}`);
        expectWithin(got.expire, instant + WEEK_MS, t.caps.expiryPrecisionMs, `expire of ${showKey(key)}`);
      },
    },
  ];
  return cases;
};
