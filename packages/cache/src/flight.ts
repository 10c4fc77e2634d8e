import { CacheError, type CacheKey, type Lease } from '@cache/core';
import type { DistributedLock } from './distributed-lock.js';
import type { LifetimeOptions } from './options.js';

/** What a loader is told about the value it computes. */
export interface LoaderContext<T> {
  /** The key being loaded, namespace included. */
  readonly key: CacheKey;
  /** Aborted when the loader passes its hard timeout or the cache closes: pass it to `fetch`, your driver. */
  readonly signal: AbortSignal;
  /** The previous value, while one is kept (stale, within grace): for conditional refreshes (ETags). */
  readonly stale: T | undefined;
  /** Return the loaded value to the callers without storing it (an error page, a partial answer). */
  skip(): void;
  /** Lifetimes for this value, decided from what was loaded (adaptive caching). */
  setOptions(options: LifetimeOptions): void;
}

/**
 * Computes the value of a key that is missing or stale. May answer synchronously. `S` is the type of
 * `ctx.stale`, `T` unless told otherwise: a separate parameter, so TypeScript infers `T` from what the loader
 * returns (`getOrSet(key, (ctx) => query(ctx.signal))`) instead of fixing it to `unknown`.
 */
export type Loader<T, S = T> = (ctx: LoaderContext<S>) => T | PromiseLike<T>;

/** Called with a result that arrived after the hard timeout, when the caller asked to keep it. */
export type LateResult<T> = (value: T) => void;

/**
 * One run of a loader for one key, shared by every caller of that key while it runs. `promise` settles with
 * the value, or rejects with `LOADER_FAILED` (the loader's error as `cause`) or `LOADER_TIMEOUT`; it is never
 * left pending past the hard timeout, whatever the loader does.
 */
export class Flight<T> {
  readonly key: CacheKey;
  readonly promise: Promise<T>;
  readonly #controller = new AbortController();
  /** Settles the run with an error unless it has settled already (set in the constructor). */
  readonly #cut: (error: CacheError) => void;
  /** A `set`, `delete` or `close` came after the loader started: its result must not be stored or served. */
  superseded = false;
  /**
   * Started on a miss, without a stale value: callers of the key join it without reading the store, where the
   * value is not yet (a stampede costs one store read per key, not one per caller).
   */
  readonly cold: boolean;
  /** The loader called `ctx.skip()`. */
  skipped = false;
  /** Lifetimes the loader chose through `ctx.setOptions`. */
  lifetime: LifetimeOptions | undefined;
  /** True once the loader returned and until its write settles: the value is served from here meanwhile. */
  loaded = false;
  /** When the loader returned, once `loaded`. */
  loadedAt = 0;
  /** The loaded value, once `loaded`. */
  value: T | undefined;
  /** A soft timeout was already reported for this run. */
  softTimedOut = false;
  /** The write of the loaded value while it is in progress (never rejects). Set by the cache. */
  writing: Promise<void> | undefined;
  /** The lease this run holds on the key across processes (with `createCache({ locks })`), until released. */
  lease: Lease | undefined;
  /** The timer renewing {@link lease} while the loader runs. */
  renewal: ReturnType<typeof setInterval> | undefined;
  readonly #lock: DistributedLock | undefined;

  constructor(
    key: CacheKey,
    loader: Loader<T>,
    stale: T | undefined,
    hardTimeoutMs: number | undefined,
    onLate: LateResult<T> | undefined,
    lock?: DistributedLock,
  ) {
    this.key = key;
    this.cold = stale === undefined;
    this.#lock = lock;
    const load = lock === undefined ? loader : lock.wrap(loader, this);
    const ctx: LoaderContext<T> = {
      key,
      signal: this.#controller.signal,
      stale,
      skip: () => {
        this.skipped = true;
      },
      setOptions: (options) => {
        this.lifetime = { ...this.lifetime, ...options };
      },
    };
    let cut: (error: CacheError) => void = () => undefined;
    this.promise = new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      cut = (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#controller.abort(error);
        reject(error);
      };
      if (hardTimeoutMs !== undefined) {
        timer = setTimeout(() => {
          cut(
            new CacheError(
              'LOADER_TIMEOUT',
              `the loader of ${key.canonical} passed its hard timeout of ${hardTimeoutMs} ms`,
              { key: key.canonical, operation: 'load' },
            ),
          );
        }, hardTimeoutMs);
      }
      let result: T | PromiseLike<T>;
      try {
        result = load(ctx);
      } catch (error) {
        result = Promise.reject(error);
      }
      Promise.resolve(result).then(
        (value) => {
          if (settled) {
            onLate?.(value);
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(loaderFailed(key, error));
        },
      );
    });
    this.#cut = cut;
  }

  /**
   * Ends the run now (the cache is closing): its signal is aborted and its callers get `reason`, whatever the
   * loader does afterwards; its hard timeout timer is cleared.
   */
  abort(reason: CacheError): void {
    this.#cut(reason);
  }

  /**
   * Gives back the lease of the run across processes, if it holds one; called once the run is over (value
   * written or not, loader failed, timed out, skipped, superseded or aborted), so no exit path keeps the lock.
   */
  release(): void {
    this.#lock?.release(this as Flight<unknown>);
  }
}

function loaderFailed(key: CacheKey, error: unknown): CacheError {
  const reason = error instanceof Error ? error.message : String(error);
  return new CacheError('LOADER_FAILED', `the loader of ${key.canonical} failed: ${reason}`, {
    cause: error,
    key: key.canonical,
    operation: 'load',
  });
}
