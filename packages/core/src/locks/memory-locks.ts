import type { CacheKey } from '../cache-key.js';
import { CacheError } from '../errors.js';
import type { AcquireOptions, AcquireResult, Lease, LockStore, WaitOptions } from './lock-store.js';

/** Options of {@link memoryLocks}. */
export interface MemoryLocksOptions {
  /** Name in reports and errors. @default "memory-locks" */
  readonly label?: string;
  /** Default lease length, in milliseconds. @default 10000 */
  readonly leaseMs?: number;
  /** How long a waiter waits for a release before looking again, in milliseconds. @default 1000 */
  readonly pollMs?: number;
  /** Clock in Unix milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
}

interface Held {
  readonly token: string;
  until: number;
  timer: ReturnType<typeof setTimeout>;
}

/** A random lock token. */
export function lockToken(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * A {@link LockStore} inside one process: what `redisLocks()` does across processes, for tests and for several
 * caches in one process that should share loaders. Leases end by themselves after `leaseMs`, as in Redis.
 */
export class MemoryLocks implements LockStore {
  readonly label: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly #held = new Map<string, Held>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #now: () => number;
  #fence = 0;
  #closed = false;

  constructor(options: MemoryLocksOptions = {}) {
    this.label = options.label ?? 'memory-locks';
    this.leaseMs = options.leaseMs ?? 10_000;
    this.pollMs = options.pollMs ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Keys locked right now. */
  get size(): number {
    return this.#held.size;
  }

  acquire(key: CacheKey, options: AcquireOptions = {}): Promise<AcquireResult> {
    if (this.#closed) return Promise.reject(closed(this.label));
    const canonical = key.canonical;
    const held = this.#held.get(canonical);
    const now = this.#now();
    if (held !== undefined)
      return Promise.resolve({ acquired: false, retryInMs: Math.max(0, held.until - now) });
    const token = lockToken();
    const leaseMs = options.leaseMs ?? this.leaseMs;
    this.#hold(canonical, token, leaseMs);
    const lease: Lease = { key, token, fence: ++this.#fence, leaseMs };
    return Promise.resolve({ acquired: true, lease });
  }

  renew(lease: Lease): Promise<boolean> {
    if (this.#closed) return Promise.reject(closed(this.label));
    const held = this.#held.get(lease.key.canonical);
    if (held === undefined || held.token !== lease.token) return Promise.resolve(false);
    clearTimeout(held.timer);
    this.#hold(lease.key.canonical, lease.token, lease.leaseMs);
    return Promise.resolve(true);
  }

  release(lease: Lease): Promise<boolean> {
    if (this.#closed) return Promise.reject(closed(this.label));
    const canonical = lease.key.canonical;
    const held = this.#held.get(canonical);
    if (held === undefined || held.token !== lease.token) return Promise.resolve(false);
    this.#end(canonical);
    return Promise.resolve(true);
  }

  /** True while `lease` is the holder of its key. */
  holds(lease: Lease): boolean {
    return this.#held.get(lease.key.canonical)?.token === lease.token;
  }

  waitForRelease(key: CacheKey, options: WaitOptions): Promise<void> {
    return new Promise((resolve) => {
      const canonical = key.canonical;
      let set = this.#waiters.get(canonical);
      if (set === undefined) {
        set = new Set();
        this.#waiters.set(canonical, set);
      }
      const waiters = set;
      const done = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(canonical) === waiters) this.#waiters.delete(canonical);
        resolve();
      };
      const timer = setTimeout(done, options.timeoutMs);
      options.signal?.addEventListener('abort', done);
      waiters.add(done);
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const canonical of [...this.#held.keys()]) this.#end(canonical);
    return Promise.resolve();
  }

  #hold(canonical: string, token: string, leaseMs: number): void {
    const timer = setTimeout(() => {
      if (this.#held.get(canonical)?.token === token) this.#end(canonical);
    }, leaseMs);
    (timer as { unref?: () => void }).unref?.();
    this.#held.set(canonical, { token, until: this.#now() + leaseMs, timer });
  }

  #end(canonical: string): void {
    const held = this.#held.get(canonical);
    if (held !== undefined) clearTimeout(held.timer);
    this.#held.delete(canonical);
    for (const wake of [...(this.#waiters.get(canonical) ?? [])]) wake();
  }
}

function closed(label: string): CacheError {
  return new CacheError('CLOSED', `the lock store "${label}" is closed`, { backend: label });
}

/** A {@link MemoryLocks}: locks across the caches of one process. */
export function memoryLocks(options: MemoryLocksOptions = {}): MemoryLocks {
  return new MemoryLocks(options);
}
