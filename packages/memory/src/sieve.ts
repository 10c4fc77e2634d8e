import type { CacheValue } from '@cache/core';

/** Expiry of an entry that never expires: comparisons with any clock reading are false. */
export const NEVER = Number.POSITIVE_INFINITY;

/** One cached entry, a node of the SIEVE queue. */
export class Entry {
  key: string;
  value: CacheValue<unknown>;
  size: number;
  /**
   * Index of the entry's expiry in the backend's `Float64Array` of expiries. Kept there rather than in a field,
   * where V8 would box the double in a separate heap object: one more memory access on every hit.
   */
  slot: number;
  /** True when the entry has an expiry, so a hit on one that has none touches neither the array nor the clock. */
  hasExpiry = false;
  /** Set on a hit, cleared by the eviction hand as it passes: the one bit SIEVE needs. */
  visited = false;
  /** Neighbour inserted after this one (toward the head), or null at the head. */
  newer: Entry | null = null;
  /** Neighbour inserted before this one (toward the tail), or null at the tail. */
  older: Entry | null = null;

  constructor(key: string, value: CacheValue<unknown>, size: number, slot: number) {
    this.key = key;
    this.value = value;
    this.size = size;
    this.slot = slot;
  }

  /** Refills an unlinked (evicted) entry for another key, sparing an allocation on a write that evicts. */
  reuse(key: string, value: CacheValue<unknown>, size: number, slot: number): this {
    this.key = key;
    this.value = value;
    this.size = size;
    this.slot = slot;
    this.visited = false;
    return this;
  }
}

/**
 * The SIEVE eviction queue (Zhang et al., NSDI 2024): entries stay in insertion order; a hit only sets
 * `visited`; to evict, a hand walks from the oldest entry toward the newest, clearing `visited` bits, and
 * evicts the first entry not visited since the hand last passed. Hits never move nodes, so they cost one
 * store, and popular entries survive while one-hit wonders leave quickly.
 *
 * The queue also keeps a sweep cursor that walks the same way, so a few entries can be checked for expiry per
 * write, and the eviction hand removes expired entries whatever their bit.
 */
export class SieveQueue {
  #head: Entry | null = null;
  #tail: Entry | null = null;
  #hand: Entry | null = null;
  #cursor: Entry | null = null;

  /** Puts `entry` at the head (newest). */
  push(entry: Entry): void {
    entry.older = this.#head;
    entry.newer = null;
    if (this.#head !== null) this.#head.newer = entry;
    else this.#tail = entry;
    this.#head = entry;
  }

  /** Unlinks `entry`, moving the hand and the cursor on if they pointed at it. */
  unlink(entry: Entry): void {
    if (this.#hand === entry) this.#hand = entry.newer;
    if (this.#cursor === entry) this.#cursor = entry.newer;
    if (entry.newer !== null) entry.newer.older = entry.older;
    else this.#head = entry.older;
    if (entry.older !== null) entry.older.newer = entry.newer;
    else this.#tail = entry.newer;
    entry.newer = null;
    entry.older = null;
  }

  /**
   * The next entry to evict, not unlinked: the first one from the hand on that has expired at `now` (per
   * `expires`, indexed by slot) or was not visited, skipping `keep`. Pass `now = -Infinity` to skip the expiry
   * test. The queue must hold an entry other than `keep`.
   */
  victim(now: number, keep: Entry | null, expires: Float64Array): Entry {
    let entry = this.#hand ?? this.#tail!;
    for (;;) {
      if (entry !== keep) {
        if (!entry.visited || expires[entry.slot]! <= now) break;
        entry.visited = false;
      }
      entry = entry.newer ?? this.#tail!;
    }
    this.#hand = entry.newer;
    return entry;
  }

  /** The next entry for the expiry sweep, advancing the cursor (wrapping at the head), or null when empty. */
  nextToSweep(): Entry | null {
    const entry = this.#cursor ?? this.#tail;
    if (entry !== null) this.#cursor = entry.newer;
    return entry;
  }

  /** Entries from the oldest to the newest. The entry just yielded may be unlinked during the walk. */
  *entries(): IterableIterator<Entry> {
    for (let entry = this.#tail; entry !== null; ) {
      const next: Entry | null = entry.newer;
      yield entry;
      entry = next;
    }
  }

  /** Forgets every entry. */
  clear(): void {
    this.#head = this.#tail = this.#hand = this.#cursor = null;
  }
}
