import type { CacheKey } from '../cache-key.js';

/** An L2 read in flight whose hit may be copied into L1, unless the key changed while it was in flight. */
export interface RefillTicket {
  readonly key: string;
  voided: boolean;
}

/**
 * Keeps refills from writing an old value over a newer one. A read of L2 that started before a write, a delete
 * or an invalidation of the same key may come back with the old value after L1 has been updated; copying it
 * into L1 would then serve the old value until it expires. The guard voids such reads, and refuses refills
 * while a write of the key is in flight. Only asynchronous paths register here: a read answered synchronously
 * cannot interleave with anything.
 */
export class RefillGuard {
  readonly #reads = new Map<string, Set<RefillTicket>>();
  readonly #writes = new Map<string, number>();
  #clearing = 0;

  /** Registers a read of `key` that has just been sent to L2. */
  open(key: CacheKey): RefillTicket {
    const ticket: RefillTicket = { key: key.canonical, voided: false };
    const tickets = this.#reads.get(ticket.key);
    if (tickets === undefined) this.#reads.set(ticket.key, new Set([ticket]));
    else tickets.add(ticket);
    return ticket;
  }

  /** Unregisters a read once L2 has answered. */
  close(ticket: RefillTicket): void {
    const tickets = this.#reads.get(ticket.key);
    if (tickets === undefined) return;
    tickets.delete(ticket);
    if (tickets.size === 0) this.#reads.delete(ticket.key);
  }

  /** Voids the reads of `key` in flight: their hits are not copied into L1. */
  voidKey(key: CacheKey): void {
    if (this.#reads.size === 0) return;
    const tickets = this.#reads.get(key.canonical);
    if (tickets === undefined) return;
    for (const ticket of tickets) ticket.voided = true;
    this.#reads.delete(key.canonical);
  }

  /** Voids every read in flight. */
  voidAll(): void {
    for (const tickets of this.#reads.values()) for (const ticket of tickets) ticket.voided = true;
    this.#reads.clear();
  }

  /** Marks a write of `key` as in flight; refills of `key` are refused until {@link endWrite}. */
  beginWrite(key: CacheKey): void {
    this.#writes.set(key.canonical, (this.#writes.get(key.canonical) ?? 0) + 1);
  }

  /** Ends a write begun with {@link beginWrite}, voiding the reads of `key` sent while it was in flight. */
  endWrite(key: CacheKey): void {
    const count = this.#writes.get(key.canonical) ?? 0;
    if (count <= 1) this.#writes.delete(key.canonical);
    else this.#writes.set(key.canonical, count - 1);
    this.voidKey(key);
  }

  /** Marks a wholesale clear as in flight: no refill at all until {@link endClear}. */
  beginClear(): void {
    this.#clearing += 1;
    this.voidAll();
  }

  /** Ends a clear begun with {@link beginClear}, voiding the reads sent meanwhile. */
  endClear(): void {
    this.#clearing -= 1;
    this.voidAll();
  }

  /** True when a hit of `key` read under `ticket` (none for a synchronous read) may be copied into L1. */
  allows(key: CacheKey, ticket: RefillTicket | undefined): boolean {
    if (ticket?.voided === true || this.#clearing > 0) return false;
    return this.#writes.size === 0 || !this.#writes.has(key.canonical);
  }
}
