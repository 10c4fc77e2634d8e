import { type CacheKey, CacheValue } from '@cache/core';
import { expectEqual, expectHit, fail, show, showKey } from '../assert.js';
import type { CaseContext } from '../case-context.js';
import type { CaseDefinition, CaseFactory } from './case-definition.js';

/**
 * Writes a different value to each key, then checks every key reads its own value back, and that deleting the
 * first key leaves the others. Fails naming the two keys that share an entry.
 */
async function expectDistinct(t: CaseContext, keys: readonly CacheKey[], what: string): Promise<void> {
  for (const [i, key] of keys.entries()) await t.set(key, new CacheValue({ index: i }));
  for (const [i, key] of keys.entries()) {
    const got = expectHit<{ index: number }>(await t.get(key), `${what}: read of ${showKey(key)}`);
    const index = got.data?.index;
    if (index !== i) {
      const other = typeof index === 'number' ? keys[index] : undefined;
      fail(
        other === undefined
          ? `${what}: ${showKey(key)} read back ${show(got.data)} instead of its own value`
          : `${what}: ${showKey(key)} and ${showKey(other)} share one entry (reading the first gave the value ` +
              `written to the second)`,
      );
    }
  }
  const [first, ...rest] = keys;
  if (first === undefined) return;
  t.expectDeleted(await t.delete(first), first, what);
  for (const [j, key] of rest.entries()) {
    const got = expectHit(
      await t.get(key),
      `${what}: read of ${showKey(key)} after deleting ${showKey(first)}`,
    );
    expectEqual(got.data, { index: j + 1 }, `${what}: ${showKey(key)} after deleting ${showKey(first)}`);
  }
}

/** Pairs of keys that differ in one respect only; each pair must map to two entries. */
async function expectPairsDistinct(
  t: CaseContext,
  pairs: readonly (readonly [CacheKey, CacheKey])[],
  what: string,
): Promise<void> {
  for (const pair of pairs) await expectDistinct(t, pair, what);
}

const SPECIAL_VALUES = [
  ' ',
  '+',
  '%20',
  '%',
  '%%',
  '=',
  '&',
  '&a=b',
  '/',
  ':',
  '?',
  '#',
  '\n',
  '\t',
  '\u0000',
  '\\',
];

/** Keys that differ only in prefix, version, order, structure or characters are distinct entries. */
export const keyCases: CaseFactory = (caps) => {
  const group = 'keys';
  const cases: CaseDefinition[] = [
    {
      id: 'keys-differ-in-prefix',
      group,
      title: 'keys that differ only in prefix are distinct (including letter case and a trailing space)',
      async run(t) {
        const pairs = [
          ['/a', '/b'],
          ['/a', '/A'],
          ['/a', '/a '],
          ['', '/'],
        ].map(
          ([x, y]) =>
            [
              t.keyFrom([['id', '1']], { prefixSuffix: x! }),
              t.keyFrom([['id', '1']], { prefixSuffix: y! }),
            ] as const,
        );
        await expectPairsDistinct(t, pairs, 'prefix');
      },
    },
    {
      id: 'keys-differ-in-version',
      group,
      title: 'keys that differ only in version are distinct (0 vs 1, 1 vs 10, 0 vs 2^32-1)',
      async run(t) {
        const pairs = [
          [0, 1],
          [1, 2],
          [1, 10],
          [0, 0xffff_ffff],
        ].map(
          ([x, y]) =>
            [t.keyFrom([['id', '1']], { version: x! }), t.keyFrom([['id', '1']], { version: y! })] as const,
        );
        await expectPairsDistinct(t, pairs, 'version');
      },
    },
    {
      id: 'keys-differ-in-order',
      group,
      title: 'keys with the same parts in another order are distinct',
      async run(t) {
        await expectPairsDistinct(
          t,
          [
            [
              t.keyFrom([
                ['a', '1'],
                ['b', '2'],
              ]),
              t.keyFrom([
                ['b', '2'],
                ['a', '1'],
              ]),
            ],
            [
              t.keyFrom([
                ['a', null],
                ['b', null],
              ]),
              t.keyFrom([
                ['b', null],
                ['a', null],
              ]),
            ],
          ],
          'part order',
        );
      },
    },
    {
      id: 'keys-differ-in-structure',
      group,
      title:
        'keys that differ in where names, values and parts split, or in the number of parts, are distinct',
      async run(t) {
        await expectPairsDistinct(
          t,
          [
            [t.keyFrom([['ab', 'c']]), t.keyFrom([['a', 'bc']])],
            [
              t.keyFrom([['a', '1&b=2']]),
              t.keyFrom([
                ['a', '1'],
                ['b', '2'],
              ]),
            ],
            [
              t.keyFrom([['a', 'x']]),
              t.keyFrom([
                ['a', 'x'],
                ['a', 'x'],
              ]),
            ],
            [
              t.keyFrom([['y', null]], { prefixSuffix: '/x' }),
              t.keyFrom([['xy', null]], { prefixSuffix: '/' }),
            ],
            [t.keyFrom([]), t.keyFrom([['id', '1']])],
          ],
          'key structure',
        );
      },
    },
    {
      id: 'keys-special-characters',
      group,
      title: 'values with separators, escapes, spaces, control characters and NUL are distinct keys',
      async run(t) {
        const keys = SPECIAL_VALUES.map((value) => t.keyFrom([['v', value]]));
        await expectDistinct(
          t,
          [...keys, t.keyFrom([[' ', 'name']]), t.keyFrom([['+', 'name']])],
          'special characters',
        );
      },
    },
    {
      id: 'keys-unicode',
      group,
      title:
        'unicode keys (astral characters, combining marks, RTL, zero-width) are distinct and never normalised',
      async run(t) {
        await expectPairsDistinct(
          t,
          [
            [t.keyFrom([['name', '\u00e9']]), t.keyFrom([['name', 'e\u0301']])],
            [
              t.keyFrom([['𝄞', '🀄']], { prefixSuffix: '/😀' }),
              t.keyFrom([['𝄞', '🀅']], { prefixSuffix: '/😀' }),
            ],
            [t.keyFrom([['שם', 'שלום']]), t.keyFrom([['שם', 'مرحبا']])],
            [t.keyFrom([['dir', 'abc']]), t.keyFrom([['dir', '\u200fabc']])],
            [t.keyFrom([['zw', 'ab']]), t.keyFrom([['zw', 'a\u200db']])],
            [t.keyFrom([['family', '👩‍👩‍👧']]), t.keyFrom([['family', '👩👩👧']])],
          ],
          'unicode',
        );
      },
    },
  ];
  if (caps.losslessKeys) {
    cases.push({
      id: 'keys-null-vs-empty',
      group,
      title: 'a part without a value (null) and a part with an empty value ("") are distinct keys',
      async run(t) {
        await expectPairsDistinct(
          t,
          [
            [t.keyFrom([['flag', null]]), t.keyFrom([['flag', '']])],
            [
              t.keyFrom([
                ['a', null],
                ['b', ''],
              ]),
              t.keyFrom([
                ['a', ''],
                ['b', null],
              ]),
            ],
          ],
          'null vs ""',
        );
      },
    });
  } else {
    cases.push({
      id: 'keys-null-vs-empty-lossy',
      group,
      title:
        'with lossy keys, a null-valued and an ""-valued part may share an entry, but each reads the last write',
      async run(t) {
        const nullKey = t.keyFrom([['flag', null]]);
        const emptyKey = t.keyFrom([['flag', '']]);
        await t.set(nullKey, new CacheValue('null'));
        await t.set(emptyKey, new CacheValue('empty'));
        expectEqual(
          expectHit(await t.get(emptyKey), `read of ${showKey(emptyKey)}`).data,
          'empty',
          'last write',
        );
        const viaNull = expectHit(await t.get(nullKey), `read of ${showKey(nullKey)}`).data;
        if (viaNull !== 'null' && viaNull !== 'empty') {
          fail(`read of ${showKey(nullKey)}: expected "null" or "empty", got ${show(viaNull)}`);
        }
      },
    });
  }
  return cases;
};
