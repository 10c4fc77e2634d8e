import { CacheValue } from '@cache/core';
import { expectEqual, expectHit, expectSame, fail, showKey } from '../assert.js';
import { pseudoRandomBytes } from '../case-context.js';
import type { CaseFactory } from './case-definition.js';

/** Fills the bytes around the view: a backend that stores the whole `ArrayBuffer` reads them back. */
const POISON = 0xee;

interface View {
  readonly name: string;
  /** Length of the whole underlying buffer. */
  readonly size: number;
  readonly offset: number;
  readonly length: number;
}

// Offsets like those of a pooled Buffer (Node slices small Buffers out of one 8 KiB pool) or a format's output.
const VIEWS: readonly View[] = [
  { name: 'small, odd offset', size: 64, offset: 3, length: 5 },
  { name: 'in the middle of a pool', size: 8192, offset: 1001, length: 300 },
  { name: 'at the very end', size: 4096, offset: 4096 - 777, length: 777 },
  { name: 'empty, at an offset', size: 32, offset: 16, length: 0 },
];

/** The raw level stores exactly the bytes of the view it is given, not the buffer underneath it. */
export const rawCases: CaseFactory = (caps) => {
  if (!caps.raw) return [];
  return [
    {
      id: 'raw-write-views',
      group: 'raw level',
      title:
        'write() of a Uint8Array view at an offset into a larger, poisoned buffer stores only the view, as a copy',
      async run(t) {
        const raw = t.raw;
        if (raw === undefined) fail('the raw option gave no raw backend');
        const now = Date.now();
        for (const [i, view] of VIEWS.entries()) {
          const backing = new Uint8Array(view.size).fill(POISON);
          const expected = pseudoRandomBytes(view.length, 0x1234567 + i);
          backing.set(expected, view.offset);
          const bytes = backing.subarray(view.offset, view.offset + view.length);
          const key = t.key('view', view.name);
          await t.writeRaw(raw, key, new CacheValue(bytes, now + 600_000 + i, now + 300_000 + i));
          // The caller may reuse its buffer once write() resolved (formats and compressors do).
          backing.fill(POISON);
          const label = `raw read of ${showKey(key)} (${view.length} bytes at offset ${view.offset} of ${view.size})`;
          const got = expectHit(await raw.read(key), label);
          expectEqual(got.data, expected, label);
          expectSame(got.stale, now + 300_000 + i, `${label}: stale`);
        }
      },
    },
  ];
};
