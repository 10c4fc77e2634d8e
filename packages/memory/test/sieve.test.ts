import { CacheValue } from '@cache/core';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/index.js';
import { key } from './helpers.js';

/** SIEVE as the paper states it, on an array (oldest first), for comparison with the linked-list implementation. */
class ReferenceSieve {
  readonly #capacity: number;
  readonly #queue: { key: number; visited: boolean }[] = [];
  #hand: { key: number; visited: boolean } | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Reads `k`, inserting it on a miss; returns whether it was a hit. */
  access(k: number): boolean {
    const found = this.#queue.find((entry) => entry.key === k);
    if (found !== undefined) {
      found.visited = true;
      return true;
    }
    if (this.#queue.length === this.#capacity) {
      let index = this.#hand === undefined ? 0 : this.#queue.indexOf(this.#hand);
      while (this.#queue[index]!.visited) {
        this.#queue[index]!.visited = false;
        index = (index + 1) % this.#queue.length;
      }
      this.#queue.splice(index, 1);
      this.#hand = this.#queue[index]; // the next newer entry, or undefined: back to the oldest
    }
    this.#queue.push({ key: k, visited: false });
    return false;
  }

  keys(): number[] {
    return this.#queue.map((entry) => entry.key).sort((a, b) => a - b);
  }
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

describe('SIEVE eviction', () => {
  it('gives the same hits, misses and residents as the reference algorithm', () => {
    for (const [capacity, universe, seed] of [
      [1, 4, 1],
      [3, 10, 2],
      [10, 40, 3],
      [64, 200, 4],
    ] as const) {
      const reference = new ReferenceSieve(capacity);
      const memory = memoryBackend({ maxEntries: capacity });
      const next = seeded(seed);
      for (let step = 0; step < 5_000; step++) {
        // Skewed: low keys are requested far more often, so visited bits matter.
        const k = Math.floor(universe * next() ** 3);
        const hit = memory.get(key(k)) !== undefined;
        if (!hit) memory.set(key(k), new CacheValue(k));
        expect(hit, `step ${step}, key ${k}, capacity ${capacity}`).toBe(reference.access(k));
      }
      const resident: number[] = [];
      for (let k = 0; k < universe; k++) if (memory.get(key(k)) !== undefined) resident.push(k);
      expect(resident).toEqual(reference.keys());
    }
  });

  it('keeps an entry that was read since the hand last passed, evicting one that was not', () => {
    const memory = memoryBackend({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) memory.set(key(k), new CacheValue(k));
    memory.get(key('a'));
    memory.set(key('d'), new CacheValue('d'));
    expect(['a', 'b', 'c', 'd'].map((k) => memory.get(key(k))?.data)).toEqual(['a', undefined, 'c', 'd']);
  });
});
