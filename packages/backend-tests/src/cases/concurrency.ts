import { CacheValue } from '@cache/core';
import { expectHit, expectSame, expectWithin, fail, show, showKey } from '../assert.js';
import type { CaseFactory } from './case-definition.js';

const WRITERS = 100;

interface Written {
  readonly writer: number;
  readonly payload: string;
}

/** Concurrent writers to one key leave one whole write, never a mix of two. */
export const concurrencyCases: CaseFactory = (caps) => [
  {
    id: 'concurrent-writes',
    group: 'concurrency',
    title: `${WRITERS} concurrent writes to one key leave exactly one of them, data and metadata together`,
    async run(t) {
      const key = t.key('contended');
      const precision = caps.expiryPrecisionMs;
      // Expire instants far enough apart that each one identifies its writer even at the declared precision.
      const spacing = 2 * precision + 1000;
      const base = Date.now();
      const values = Array.from(
        { length: WRITERS },
        (_, writer) =>
          new CacheValue<Written>(
            { writer, payload: `writer-${writer}-`.repeat(1 + (writer % 7)) },
            base + 3_600_000 + writer * spacing,
            base + 1_800_000 + writer,
          ),
      );
      await Promise.all(values.map((value) => t.set(key, value)));
      const got = expectHit<Written>(
        await t.get(key),
        `read of ${showKey(key)} after ${WRITERS} concurrent writes`,
      );
      const writer = got.data?.writer;
      const mine = typeof writer === 'number' ? values[writer] : undefined;
      if (mine === undefined)
        fail(`read of ${showKey(key)}: data ${show(got.data)} is none of the values written`);
      expectSame(got.data.payload, mine.data.payload, `payload of writer ${writer}`);
      expectSame(
        got.stale,
        mine.stale,
        `stale read with the data of writer ${writer} (stale is writer + offset)`,
      );
      expectWithin(got.expire, mine.expire!, precision, `expire read with the data of writer ${writer}`);
    },
  },
];
