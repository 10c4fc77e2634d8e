import { CacheError, CacheValue } from '@cache/core';
import { expectEqual, expectHit, fail, show, showKey } from '../assert.js';
import type { CaseDefinition, CaseFactory } from './case-definition.js';

const LARGE_VALUE_BYTES = 5 * 1024 * 1024;
/** Limits above this are not tested at the limit: the suite would allocate too much. */
const LARGEST_LIMIT_TESTED = 8 * 1024 * 1024;

function describeSize(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** Big values are stored whole; values at the declared limit fit; values over it fail honestly. */
export const sizeCases: CaseFactory = (caps) => {
  const group = 'size';
  const max = caps.maxValueBytes;
  const cases: CaseDefinition[] = [];
  const sized = (id: string, bytes: number, title: string): CaseDefinition => ({
    id,
    group,
    title,
    async run(t) {
      const key = t.key('big');
      const data = t.valueOfSize(bytes);
      await t.set(key, new CacheValue(data));
      expectEqual(
        expectHit(await t.get(key), `read of ${showKey(key)}`).data,
        data,
        `${describeSize(bytes)} value`,
      );
    },
  });
  if (max === undefined || max >= LARGE_VALUE_BYTES) {
    cases.push(sized('large-value', LARGE_VALUE_BYTES, 'a 5 MiB value round-trips whole'));
  }
  if (max !== undefined && max <= LARGEST_LIMIT_TESTED) {
    cases.push(
      sized(
        'value-at-limit',
        max,
        `a value of exactly maxValueBytes (${describeSize(max)}) round-trips whole`,
      ),
    );
    cases.push({
      id: 'value-over-limit',
      group,
      title:
        'a value over maxValueBytes fails with VALUE_TOO_LARGE or is stored whole, never truncated or ignored',
      async run(t) {
        const key = t.key('too-big');
        await t.set(key, new CacheValue('previous'));
        const data = t.valueOfSize(max + 1);
        try {
          await t.set(key, new CacheValue(data));
        } catch (error) {
          if (!CacheError.is(error, 'VALUE_TOO_LARGE')) {
            fail(
              `set of ${max + 1} bytes at ${showKey(key)} should fail with CacheError VALUE_TOO_LARGE, ` +
                `got ${error instanceof Error ? `${error.name}: ${error.message}` : show(error)}`,
            );
          }
          return;
        }
        const got = await t.get(key);
        // A set that reported success must not leave the previous value in place.
        if (got !== undefined)
          expectEqual(got.data, data, `read of ${showKey(key)} after an accepted oversized set`);
      },
    });
  }
  return cases;
};
