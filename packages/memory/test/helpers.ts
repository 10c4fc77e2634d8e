import { CacheKey } from '@cache/core';

/** A manual clock in Unix milliseconds that counts how often it is read. */
export class ManualClock {
  time: number;
  reads = 0;
  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }
  readonly now = (): number => {
    this.reads++;
    return this.time;
  };
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Key number `i` of a test. */
export function key(i: number | string): CacheKey {
  return CacheKey.of('item', String(i), { prefix: 'memory-test' });
}
