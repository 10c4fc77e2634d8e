import { describe, expect, it } from 'vitest';
import { CacheValue } from '../src/index.js';
import { cacheErrorOf } from './helpers/thrown.js';

const NOW = 1_700_000_000_000;

describe('CacheValue', () => {
  describe('fromTtl', () => {
    it('is fresh for ttlMs, then stale for graceMs: stale = now + ttl, expire = now + ttl + grace', () => {
      const value = CacheValue.fromTtl('data', { ttlMs: 10_000, graceMs: 50_000 }, NOW);
      expect(value.data).toBe('data');
      expect(value.stale).toBe(NOW + 10_000);
      expect(value.expire).toBe(NOW + 60_000);
      expect(value.state(NOW + 9_999)).toBe('actual');
      expect(value.state(NOW + 10_000)).toBe('stale');
      expect(value.state(NOW + 59_999)).toBe('stale');
      expect(value.state(NOW + 60_000)).toBe('expired');
    });

    it('without graceMs there is no stale window: fresh until expire, no stale instant', () => {
      for (const lifetime of [{ ttlMs: 1_000 }, { ttlMs: 1_000, graceMs: 0 }]) {
        const value = CacheValue.fromTtl('x', lifetime, NOW);
        expect(value.stale).toBeUndefined();
        expect(value.expire).toBe(NOW + 1_000);
        expect(value.state(NOW + 999)).toBe('actual');
        expect(value.state(NOW + 1_000)).toBe('expired');
      }
    });

    it('rejects graceMs without ttlMs, and a negative graceMs', () => {
      cacheErrorOf(() => CacheValue.fromTtl('x', { graceMs: 1_000 }, NOW), 'INVALID_VALUE');
      cacheErrorOf(() => CacheValue.fromTtl('x', { ttlMs: 1_000, graceMs: -1 }, NOW), 'INVALID_VALUE');
    });

    it('never expires and is never stale without lifetimes', () => {
      const value = CacheValue.fromTtl(1, {}, NOW);
      expect(value.expire).toBeUndefined();
      expect(value.stale).toBeUndefined();
      expect(value.ttl(NOW + 1e12)).toBeUndefined();
      expect(value.state(NOW + 1e12)).toBe('actual');
      expect(CacheValue.fromTtl(1).expire).toBeUndefined();
    });

    it('keeps sub-second lifetimes (hitbox floors ttl to whole seconds; we do not)', () => {
      const value = CacheValue.fromTtl('x', { ttlMs: 1500 }, NOW);
      expect(value.ttl(NOW)).toBe(1500);
      expect(value.ttl(NOW + 1)).toBe(1499);
      const short = CacheValue.fromTtl('x', { ttlMs: 300 }, NOW);
      expect(short.ttl(NOW)).toBe(300);
      expect(short.state(NOW + 299)).toBe('actual');
      expect(short.state(NOW + 300)).toBe('expired');
    });

    it('uses the real clock when no instant is given', () => {
      const before = Date.now();
      const value = CacheValue.fromTtl('x', { ttlMs: 1000 });
      expect(value.expire).toBeGreaterThanOrEqual(before + 1000);
      expect(value.expire).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it.each([Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number])(
      'rejects ttlMs %s',
      (ttlMs) => {
        cacheErrorOf(() => CacheValue.fromTtl('x', { ttlMs }, NOW), 'INVALID_VALUE');
        cacheErrorOf(() => CacheValue.fromTtl('x', { ttlMs: 1_000, graceMs: ttlMs }, NOW), 'INVALID_VALUE');
      },
    );
  });

  describe('the timeline', () => {
    const value = new CacheValue('v', NOW + 100, NOW + 40);

    it('is actual before stale, stale from stale to expire, expired from expire on', () => {
      expect(value.state(NOW)).toBe('actual');
      expect(value.state(NOW + 39)).toBe('actual');
      expect(value.state(NOW + 40)).toBe('stale');
      expect(value.state(NOW + 99)).toBe('stale');
      expect(value.state(NOW + 100)).toBe('expired');
      expect(value.state(NOW + 10_000)).toBe('expired');
    });

    it('reports isExpired and the remaining ttl consistently', () => {
      expect(value.isExpired(NOW + 99)).toBe(false);
      expect(value.isExpired(NOW + 100)).toBe(true);
      expect(value.ttl(NOW + 60)).toBe(40);
      expect(value.ttl(NOW + 100)).toBe(0);
      expect(value.ttl(NOW + 5000)).toBe(0);
    });

    it('is never stale when stale is at or after expire', () => {
      for (const stale of [NOW + 100, NOW + 500]) {
        const late = new CacheValue('v', NOW + 100, stale);
        for (const t of [NOW, NOW + 99, NOW + 100, NOW + 600]) expect(late.state(t)).not.toBe('stale');
        expect(late.state(NOW + 99)).toBe('actual');
        expect(late.state(NOW + 100)).toBe('expired');
      }
    });

    it('can be stale forever when it never expires', () => {
      const value = new CacheValue('v', undefined, NOW);
      expect(value.state(NOW - 1)).toBe('actual');
      expect(value.state(NOW + 1e12)).toBe('stale');
      expect(value.isExpired(NOW + 1e12)).toBe(false);
    });
  });

  describe('constructor', () => {
    it('accepts Date instants and truncates fractions of a millisecond', () => {
      const value = new CacheValue('v', new Date(NOW + 1000), new Date(NOW + 500));
      expect(value.expire).toBe(NOW + 1000);
      expect(value.stale).toBe(NOW + 500);
      expect(new CacheValue('v', NOW + 0.9).expire).toBe(NOW);
    });

    it.each([
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['an invalid Date', new Date('not a date')],
      ['a string', '2024-01-01' as unknown as number],
    ])('rejects %s as expire and as stale', (_what, instant) => {
      cacheErrorOf(() => new CacheValue('v', instant), 'INVALID_VALUE');
      cacheErrorOf(() => new CacheValue('v', undefined, instant), 'INVALID_VALUE');
    });
  });

  it('withData keeps the metadata and leaves the original untouched', () => {
    const value = new CacheValue({ a: 1 }, NOW + 100, NOW + 50);
    const bytes = value.withData(new Uint8Array([1, 2]));
    expect(bytes.data).toEqual(new Uint8Array([1, 2]));
    expect(bytes.expire).toBe(NOW + 100);
    expect(bytes.stale).toBe(NOW + 50);
    expect(value.data).toEqual({ a: 1 });
  });
});
