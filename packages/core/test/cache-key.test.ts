import { describe, expect, it } from 'vitest';
import { CacheKey } from '../src/index.js';
import { cacheErrorOf } from './helpers/thrown.js';

describe('CacheKey', () => {
  it('builds one-part keys like hitbox from_str, with prefix "" and version 0 by default', () => {
    const key = CacheKey.of('user', '42');
    expect(key.prefix).toBe('');
    expect(key.version).toBe(0);
    expect(key.parts).toEqual([{ name: 'user', value: '42' }]);
    expect(CacheKey.of('flag').parts).toEqual([{ name: 'flag', value: null }]);
    expect(CacheKey.of('id', '1', { prefix: 'api', version: 2 })).toMatchObject({
      prefix: 'api',
      version: 2,
    });
  });

  it('builds from pairs, part objects and objects, keeping order and duplicates', () => {
    const fromPairs = CacheKey.from([
      ['b', '1'],
      ['a', null],
      ['b', '2'],
    ]);
    expect(fromPairs.parts.map((p) => p.name)).toEqual(['b', 'a', 'b']);
    const fromObjects = CacheKey.from([
      { name: 'b', value: '1' },
      { name: 'a', value: null },
      ['b', '2'] as const,
    ]);
    expect(fromObjects.equals(fromPairs)).toBe(true);
    const fromRecord = CacheKey.from({ z: '1', a: null });
    expect(fromRecord.parts).toEqual([
      { name: 'z', value: '1' },
      { name: 'a', value: null },
    ]);
  });

  it('is immutable: parts are frozen and copied from the input', () => {
    const input = [{ name: 'a', value: '1' }];
    const key = CacheKey.from(input);
    input[0]!.value = 'changed';
    input.push({ name: 'b', value: '2' });
    expect(key.parts).toEqual([{ name: 'a', value: '1' }]);
    expect(Object.isFrozen(key.parts)).toBe(true);
    expect(Object.isFrozen(key.parts[0])).toBe(true);
    expect(() => {
      (key.parts as unknown as { name: string }[]).push({ name: 'x' });
    }).toThrow(TypeError);
  });

  it('with() changes prefix or version and keeps the rest', () => {
    const key = CacheKey.from({ id: '1' }, { prefix: 'a', version: 1 });
    const moved = key.with({ version: 2 });
    expect(moved).toMatchObject({ prefix: 'a', version: 2 });
    expect(moved.parts).toEqual(key.parts);
    expect(key.with({ prefix: 'b' })).toMatchObject({ prefix: 'b', version: 1 });
    expect(key.version).toBe(1);
  });

  describe('validation', () => {
    it.each([-1, 1.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY, '1'])(
      'rejects version %s',
      (version) => {
        cacheErrorOf(() => CacheKey.of('a', null, { version: version as number }), 'INVALID_KEY');
      },
    );

    it('accepts the whole u32 range', () => {
      expect(CacheKey.of('a', null, { version: 0xffff_ffff }).version).toBe(0xffff_ffff);
      expect(CacheKey.of('a', null, { version: 0 }).version).toBe(0);
    });

    it('rejects lone surrogates anywhere, since they have no UTF-8 form', () => {
      cacheErrorOf(() => CacheKey.of('\uD800'), 'INVALID_KEY');
      cacheErrorOf(() => CacheKey.of('a', 'x\uDC00'), 'INVALID_KEY');
      cacheErrorOf(() => CacheKey.of('a', null, { prefix: '\uDBFF' }), 'INVALID_KEY');
      expect(CacheKey.of('😀', '\uD83D\uDE00').parts[0]!.value).toBe('😀');
    });

    it('rejects names, values and prefixes that are not strings', () => {
      cacheErrorOf(() => CacheKey.of(42 as unknown as string), 'INVALID_KEY');
      cacheErrorOf(() => CacheKey.from({ a: 1 as unknown as string }), 'INVALID_KEY');
      cacheErrorOf(() => CacheKey.from({ a: undefined as unknown as string }), 'INVALID_KEY');
      cacheErrorOf(() => CacheKey.of('a', null, { prefix: 1 as unknown as string }), 'INVALID_KEY');
    });
  });

  describe('canonical and equals', () => {
    it('tells a null value from ""', () => {
      const none = CacheKey.of('a');
      const empty = CacheKey.of('a', '');
      expect(none.canonical).not.toBe(empty.canonical);
      expect(none.equals(empty)).toBe(false);
    });

    it('depends on order, prefix and version', () => {
      const key = CacheKey.from({ a: '1', b: '2' }, { prefix: 'p', version: 1 });
      expect(key.equals(CacheKey.from({ b: '2', a: '1' }, { prefix: 'p', version: 1 }))).toBe(false);
      expect(key.equals(key.with({ prefix: 'q' }))).toBe(false);
      expect(key.equals(key.with({ version: 2 }))).toBe(false);
      expect(
        key.equals(
          CacheKey.from(
            [
              ['a', '1'],
              ['b', '2'],
            ],
            { prefix: 'p', version: 1 },
          ),
        ),
      ).toBe(true);
    });

    it('cannot be fooled by separators inside names or values', () => {
      const a = CacheKey.from([['a', 'b","c']]);
      const b = CacheKey.from([
        ['a', 'b'],
        ['c', null],
      ]);
      expect(a.canonical).not.toBe(b.canonical);
      expect(CacheKey.of('a:b').equals(CacheKey.of('a', 'b'))).toBe(false);
      expect(CacheKey.of('x', null, { prefix: 'a' }).equals(CacheKey.of('a', 'x'))).toBe(false);
    });

    it('is stable and memoized, and toString is the canonical string', () => {
      const key = CacheKey.from({ a: '1' }, { prefix: 'p', version: 3 });
      expect(key.canonical).toBe(key.canonical);
      expect(String(key)).toBe(key.canonical);
      expect(key.canonical).toBe(CacheKey.from({ a: '1' }, { prefix: 'p', version: 3 }).canonical);
    });
  });
});
