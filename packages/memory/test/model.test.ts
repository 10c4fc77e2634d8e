import { CacheValue } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/index.js';
import { key, ManualClock } from './helpers.js';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

/** Random sets (with and without expiry), gets, deletes, purges and clock steps over a few keys. */
function churn(capacity: number, seed: number, check: (step: number, ctx: Step) => void): void {
  const clock = new ManualClock();
  const memory = memoryBackend({ maxEntries: capacity, now: clock.now });
  const model = new Map<number, CacheValue<number>>();
  const next = seeded(seed);
  for (let step = 0; step < 20_000; step++) {
    const k = Math.floor(next() * 50);
    const roll = next();
    if (roll < 0.4) {
      const ttl = next() < 0.7 ? Math.floor(next() * 40) - 5 : undefined; // some already expired
      const value = new CacheValue(step, ttl === undefined ? undefined : clock.time + ttl);
      memory.set(key(k), value);
      if (value.isExpired(clock.time)) model.delete(k);
      else model.set(k, value);
    } else if (roll < 0.85) {
      check(step, { kind: 'get', k, got: memory.get(key(k)), expected: live(model, k, clock.time) });
    } else if (roll < 0.95) {
      const expected = live(model, k, clock.time);
      const status = memory.delete(key(k));
      model.delete(k);
      check(step, { kind: 'delete', k, got: status, expected });
    } else if (roll < 0.97) {
      memory.purgeExpired();
    } else {
      clock.advance(Math.floor(next() * 10));
    }
    expect(memory.size).toBeLessThanOrEqual(capacity);
  }
}

function live(
  model: Map<number, CacheValue<number>>,
  k: number,
  now: number,
): CacheValue<number> | undefined {
  const value = model.get(k);
  return value === undefined || value.isExpired(now) ? undefined : value;
}

type Step = {
  kind: 'get' | 'delete';
  k: number;
  got: unknown;
  expected: CacheValue<number> | undefined;
};

describe('random operations against a model', () => {
  it('match a plain map with expiry exactly when nothing is evicted', () => {
    churn(100, 11, (step, { kind, got, expected }) => {
      if (kind === 'get') expect(got, `step ${step}`).toBe(expected);
      else
        expect(got, `step ${step}`).toEqual(
          expected === undefined ? { kind: 'missing' } : { kind: 'deleted', count: 1 },
        );
    });
  });

  it('never return anything but the live last write under eviction pressure', () => {
    churn(8, 12, (step, { kind, got, expected }) => {
      if (kind === 'get' && got !== undefined) expect(got, `step ${step}`).toBe(expected);
      if (kind === 'delete' && expected === undefined)
        expect(got, `step ${step}`).toEqual({ kind: 'missing' });
    });
  });
});
