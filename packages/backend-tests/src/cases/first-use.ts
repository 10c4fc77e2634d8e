import { CacheValue } from '@cache/core';
import { expectEqual, expectHit, expectMiss, fail, showKey } from '../assert.js';
import type { CaseFactory } from './case-definition.js';

const BACKENDS = 8;
const WRITES_EACH = 3;

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Fresh backends started together on one store (processes deploying at once) each initialise lazily on first
 * use: creating a table, a directory, a schema. Racing initialisations must not lose writes nor fail them.
 */
export const firstUseCases: CaseFactory = () => [
  {
    id: 'fresh-backends-first-use',
    group: 'concurrency',
    title: `${BACKENDS} fresh backends used concurrently on first use keep every write (lazy initialisation races)`,
    async run(t) {
      const fresh = await t.fresh(BACKENDS);
      const jobs = fresh.flatMap((c, b) => [
        // A read as the very first call, beside the writes: initialisation on the read path races too.
        async () =>
          expectMiss(await c.get(c.key('never', String(b))), `first read through fresh backend #${b}`),
        ...Array.from({ length: WRITES_EACH }, (_, w) => async () => {
          await c.set(c.key('first-use', `${b}-${w}`), new CacheValue({ backend: b, write: w }));
        }),
      ]);
      const outcomes = await Promise.allSettled(jobs.map((job) => job()));
      const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ i, reason: o.reason }] : []));
      if (failed.length > 0) {
        const { i, reason } = failed[0]!;
        const backend = Math.floor(i / (WRITES_EACH + 1));
        fail(
          `${failed.length} of ${jobs.length} first calls through ${BACKENDS} fresh backends failed; the first, ` +
            `through backend #${backend}: ${describeError(reason)}`,
        );
      }
      let lost = 0;
      let firstLost = '';
      for (const [b, c] of fresh.entries()) {
        for (let w = 0; w < WRITES_EACH; w++) {
          const key = c.key('first-use', `${b}-${w}`);
          const got = await c.get<unknown>(key);
          if (got === undefined) {
            lost++;
            firstLost ||= showKey(key);
            continue;
          }
          expectEqual(
            expectHit(got, `read of ${showKey(key)}`).data,
            { backend: b, write: w },
            `read of ${showKey(key)}`,
          );
        }
      }
      if (lost > 0) {
        fail(
          `${lost} of ${BACKENDS * WRITES_EACH} writes made through ${BACKENDS} fresh backends on first use were ` +
            `lost (read back as misses through the backend that wrote them), e.g. ${firstLost}`,
        );
      }
    },
  },
];
