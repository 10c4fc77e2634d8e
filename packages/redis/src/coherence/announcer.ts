import { type Awaitable, CacheError, type CacheKey, type CacheOperation, distinctKeys } from '@cache/core';
import { classify } from '../redis-errors.js';
import {
  allInvalidationMessage,
  batchInvalidationMessages,
  invalidationMessage,
  prefixInvalidationMessage,
} from './messages.js';
import type { Publisher } from './publisher.js';

/** What the announcer needs from the tiers it serves. */
export interface AnnouncerHooks {
  /** An invalidation message was published (counted in the stats). */
  published(): void;
  /** A publishing failure to report (once per outage). */
  report(operation: 'publish' | 'heartbeat', error: unknown, key?: CacheKey): void;
}

/**
 * The sending side of coherence: runs a write, a batch or a clear, then publishes what other processes must drop
 * (one key, batched keys, a prefix, everything), and decides what the caller learns when publishing fails. A
 * write that failed is announced too, best effort (it may have reached Redis after a timeout), and its own error
 * stays the caller's. Publishing failures the caller cannot be told of are reported once per outage, until a
 * publish (an invalidation or a heartbeat) succeeds again.
 */
export class Announcer {
  readonly #publisher: Publisher;
  readonly #channel: string;
  readonly #instanceId: string;
  readonly #label: string;
  readonly #hooks: AnnouncerHooks;
  /** Set once a publishing failure was reported, until a publish succeeds again. */
  #outage = false;
  #closed = false;

  constructor(
    publisher: Publisher,
    channel: string,
    instanceId: string,
    label: string,
    hooks: AnnouncerHooks,
  ) {
    this.#publisher = publisher;
    this.#channel = channel;
    this.#instanceId = instanceId;
    this.#label = label;
    this.#hooks = hooks;
  }

  /** Runs `write` of `key`, then publishes its invalidation. Rejects like `CoherentTiers.set`. */
  async afterWrite<R>(key: CacheKey, operation: CacheOperation, write: () => Awaitable<R>): Promise<R> {
    let result: R;
    try {
      result = await write();
    } catch (error) {
      const failure = await this.#send([invalidationMessage(this.#instanceId, key)], operation);
      if (failure !== undefined) {
        this.reportOutage(
          'publish',
          this.#error(
            key,
            operation,
            failure,
            `${operation} failed, and its invalidation could not be published either (should the write have ` +
              'been applied all the same, after a timeout say, other processes may keep their old copy until it expires)',
          ),
          key,
        );
      }
      throw error;
    }
    const failure = await this.#send([invalidationMessage(this.#instanceId, key)], operation);
    if (failure !== undefined) throw this.#error(key, operation, failure, this.#unpublished(operation));
    return result;
  }

  /**
   * Runs a batch `write` of `keys`, then publishes their invalidations in batched messages. A position whose
   * write succeeded but whose invalidation could not be published holds the publish error.
   */
  async afterBatch<R>(
    keys: readonly CacheKey[],
    operation: CacheOperation,
    write: () => Awaitable<(R | CacheError)[]>,
  ): Promise<(R | CacheError)[]> {
    let results: (R | CacheError)[];
    try {
      results = await write();
    } catch (error) {
      results = keys.map(() =>
        CacheError.wrap(error, 'BACKEND', `${operation} failed in "${this.#label}"`, {
          backend: this.#label,
          operation,
        }),
      );
    }
    if (keys.length === 0) return results;
    const messages = batchInvalidationMessages(this.#instanceId, distinctKeys(keys).keys);
    const failure = await this.#send(messages, operation);
    if (failure === undefined) return results;
    let wrote = false;
    const published = results.map((result, i) => {
      if (CacheError.is(result)) return result;
      wrote = true;
      return this.#error(keys[i], operation, failure, this.#unpublished(operation));
    });
    if (!wrote) {
      this.reportOutage(
        'publish',
        this.#error(
          undefined,
          operation,
          failure,
          `${operation} failed, and its invalidations could not be published either`,
        ),
      );
    }
    return published;
  }

  /** Runs `clear`, then tells every process to drop its L1 copies under `prefix`. */
  afterClearPrefix(prefix: string, clear: () => Promise<void>): Promise<void> {
    return this.#afterClear(clear, prefixInvalidationMessage(this.#instanceId, prefix), 'cleared');
  }

  /** Runs `clear` (of this L1), then tells every process to drop all its L1 copies. */
  afterInvalidateAll(clear: () => Promise<void>): Promise<void> {
    return this.#afterClear(clear, allInvalidationMessage(this.#instanceId), 'dropped');
  }

  async #afterClear(clear: () => Promise<void>, message: string, what: string): Promise<void> {
    let clearFailure: { error: unknown } | undefined;
    try {
      await clear();
    } catch (error) {
      clearFailure = { error };
    }
    // Published even when clearing failed: part of it may have been done, and other processes must not keep
    // serving what is gone.
    const failure = await this.#send([message], 'clear');
    if (clearFailure !== undefined) {
      if (failure !== undefined) {
        this.reportOutage(
          'publish',
          this.#error(
            undefined,
            'clear',
            failure,
            'clear failed, and its message could not be published either',
          ),
        );
      }
      throw clearFailure.error;
    }
    if (failure !== undefined) {
      throw this.#error(
        undefined,
        'clear',
        failure,
        `the entries were ${what} here, but the message could not be published, so other processes may keep ` +
          'their copies until they expire',
      );
    }
  }

  /** A publish (invalidation or heartbeat) went through: the publishing outage, if any, is over. */
  recovered(): void {
    this.#outage = false;
  }

  /** Reports a publishing failure once per outage: until a publish succeeds again, later ones are not reported. */
  reportOutage(operation: 'publish' | 'heartbeat', error: unknown, key?: CacheKey): void {
    if (this.#outage || this.#closed) return;
    this.#outage = true;
    this.#hooks.report(operation, error, key);
  }

  /** Publishes nothing more: later announcements fail with `CLOSED`. */
  close(): void {
    this.#closed = true;
  }

  /** Publishes `messages` on the invalidation channel; resolves with the first failure, if any. */
  async #send(messages: readonly string[], operation: CacheOperation): Promise<unknown> {
    if (this.#closed) return new CacheError('CLOSED', `${this.#label}: closed`, { operation });
    const outcomes = await Promise.all(
      messages.map((message) =>
        this.#publisher.publish(this.#channel, message).then(
          () => {
            this.#hooks.published();
            this.recovered();
            return undefined;
          },
          (error: unknown) => error ?? new Error('publish failed'),
        ),
      ),
    );
    return outcomes.find((outcome) => outcome !== undefined);
  }

  #unpublished(operation: CacheOperation): string {
    return (
      `${operation} reached the cache, but its invalidation could not be published, so other processes may ` +
      'keep their old copy until it expires'
    );
  }

  #error(key: CacheKey | undefined, operation: CacheOperation, error: unknown, what: string): CacheError {
    if (CacheError.is(error) && error.code === 'CLOSED') {
      return key === undefined || error.key !== undefined
        ? error
        : new CacheError('CLOSED', error.message, { operation, key: key.canonical });
    }
    const reason = error instanceof Error ? error.message : String(error);
    return new CacheError(classify(error), `${this.#label}: ${what}: ${reason}`, {
      cause: error,
      backend: this.#label,
      operation,
      ...(key === undefined ? {} : { key: key.canonical }),
    });
  }
}
