import type { CacheError, CacheKey } from '@cache/core';

/**
 * What the coherence layer was doing when it failed: opening or keeping the subscription (`subscribe`), sending
 * a heartbeat (`heartbeat`), publishing an invalidation whose failure could not be thrown (`publish`), reading
 * a message it could not understand (`message`), or dropping L1 copies (`invalidate`, `clear`).
 */
export type CoherenceOperation = 'subscribe' | 'heartbeat' | 'publish' | 'message' | 'invalidate' | 'clear';

/** A failure the coherence layer kept going after, given to `onError`. */
export interface CoherenceErrorEvent {
  /** The failure, as a `CacheError` with a stable code. */
  readonly error: CacheError;
  /** The base channel name of the coherence group. */
  readonly channel: string;
  readonly operation: CoherenceOperation;
  /** The key involved, when there is one. */
  readonly key?: CacheKey;
}

/** A change of trust in L1, given to `onTrustChange`. */
export interface TrustChange {
  /** True once a heartbeat has been confirmed (and L1 cleared after a new subscription); false when lost. */
  readonly trusted: boolean;
  /** Why, in a few words: `"heartbeat confirmed"`, `"subscriber connection lost"`, `"heartbeat overdue"`, ... */
  readonly reason: string;
}

/** Counters since the layer was created, for metrics and the demo. */
export interface CoherenceStats {
  /** Invalidations this process published (after its own `set` and `delete`). */
  readonly published: number;
  /** Invalidations from other processes applied to L1. */
  readonly received: number;
  /** This process's own invalidations, received back and ignored. */
  readonly ownIgnored: number;
  /** Reads that skipped L1 because it was not trusted at that moment. */
  readonly bypassedReads: number;
  /** Times L1 was cleared because a new subscription could not know what it had missed. */
  readonly clears: number;
  /** Subscriber connections opened (the first, then one per recovery). */
  readonly sessions: number;
}
