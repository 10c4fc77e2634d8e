import { CacheValue } from '@cache/core';
import { expectEqual, expectHit, showKey } from '../assert.js';
import type { CaseContext } from '../case-context.js';
import type { CaseDefinition, CaseFactory } from './case-definition.js';

/** Writes each sample under its own key, then reads them all back and compares them deeply. */
async function expectRoundTrips(t: CaseContext, samples: readonly unknown[], what: string): Promise<void> {
  const keys = samples.map((_, i) => t.keyFrom([['sample', String(i)]]));
  for (const [i, key] of keys.entries()) await t.set(key, new CacheValue(samples[i]));
  for (const [i, key] of keys.entries()) {
    const label = `${what} #${i}: read of ${showKey(key)}`;
    expectEqual(expectHit(await t.get(key), label).data, samples[i], label);
  }
}

function allByteValues(): Uint8Array {
  const bytes = new Uint8Array(512);
  for (let i = 0; i < 256; i++) {
    bytes[i] = i;
    bytes[511 - i] = i;
  }
  return bytes;
}

/** Data of the JS types every format supports round-trips exactly; bytes too when the format can carry them. */
export const dataCases: CaseFactory = (caps) => {
  const group = 'data';
  const cases: CaseDefinition[] = [
    {
      id: 'data-strings',
      group,
      title: 'strings round-trip exactly (empty, whitespace, quotes, NUL, 10 000 characters)',
      async run(t) {
        await expectRoundTrips(
          t,
          [
            '',
            'plain',
            '  spaces  ',
            'line\nbreak\ttab\r\n',
            'quote " backslash \\ slash /',
            'nul \u0000 inside',
            'x'.repeat(10_000),
          ],
          'string',
        );
      },
    },
    {
      id: 'data-numbers',
      group,
      title:
        'numbers round-trip exactly (integers, negatives, fractions, safe-integer bounds, large exponents)',
      async run(t) {
        await expectRoundTrips(
          t,
          [
            1,
            -1,
            42,
            0.1 + 0.2,
            Math.PI,
            -2.5,
            1e-7,
            1e21,
            2 ** 31,
            -(2 ** 31) - 1,
            2 ** 32,
            Number.MAX_SAFE_INTEGER,
            Number.MIN_SAFE_INTEGER,
          ],
          'number',
        );
      },
    },
    {
      id: 'data-falsy',
      group,
      title: 'falsy data (false, 0, "", null, [] and {}) is a hit with that data, not a miss',
      async run(t) {
        await expectRoundTrips(t, [false, 0, '', null, [], {}, true], 'falsy value');
      },
    },
    {
      id: 'data-nested',
      group,
      title: 'nested objects and arrays round-trip with every level intact',
      async run(t) {
        await expectRoundTrips(
          t,
          [
            {
              user: { id: 7, name: 'Ada', roles: ['admin', 'dev'], address: { city: 'Zürich', zip: null } },
              list: [1, [2, [3, [4, []]]], { deep: { deeper: { deepest: true } } }],
              empty: { object: {}, array: [] },
            },
            [1, 'two', null, true, { three: 3 }, [4, [5]]],
            { 'key with spaces': 1, 'key.with.dots': 2, '': 3, '0': 4 },
          ],
          'nested value',
        );
      },
    },
    {
      id: 'data-unicode',
      group,
      title: 'unicode data (astral characters, combining marks, RTL, ZWJ sequences) round-trips unnormalised',
      async run(t) {
        await expectRoundTrips(
          t,
          [
            '😀 𝄞 𝟘 🀄',
            'e\u0301 vs \u00e9',
            'שלום עולם / مرحبا بالعالم',
            '👩‍👩‍👧 \u200f\u200d',
            {
              '😀': 'grinning',
              שלום: ['עולם', 'مرحبا'],
              combining: 'e\u0301',
              composed: '\u00e9',
              nested: { '𝄞': ['🀄'] },
            },
          ],
          'unicode value',
        );
      },
    },
  ];
  if (caps.binaryData) {
    cases.push({
      id: 'data-binary',
      group,
      title:
        'bytes round-trip exactly: all 256 byte values, empty, a view into a larger buffer, bytes inside objects',
      async run(t) {
        const every = allByteValues();
        const backing = new Uint8Array([0xde, 0xad, 1, 2, 3, 0xff, 0xbe, 0xef]);
        await expectRoundTrips(
          t,
          [
            every,
            new Uint8Array(0),
            backing.subarray(2, 6),
            { bytes: new Uint8Array([0, 0xff, 0x80, 0x7f]), n: 1 },
          ],
          'binary value',
        );
      },
    });
  }
  return cases;
};
