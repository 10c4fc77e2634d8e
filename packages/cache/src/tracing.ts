import {
  CacheError,
  type Diagnostics,
  diagnostics,
  type LoadContext,
  OPERATION_SAMPLING,
  type OperationContext,
  type Tracing,
  type TracedOperation,
} from '@cache/core';
import type { Flight } from './flight.js';

/**
 * The `diagnostics_channel` channels (`cache:operation`, `cache:operation:sample`, `cache:load`), looked up once;
 * `undefined` where the runtime has none. Every use checks for subscribers first, so nobody listening costs two
 * boolean reads on the hot path.
 */
export const channels: Diagnostics | undefined = diagnostics();

/** Operations left before the next one traced on `cache:operation:sample`. */
let countdown = 1;
/** Operations between two samples, re-chosen at each sample (a power of two). */
let interval = 1;
/** When the last sample was taken (`performance.now()`). */
let sampledAt = Number.NEGATIVE_INFINITY;

/**
 * The channel to trace this operation on, or `undefined` for none (the usual case: nobody listens).
 * `cache:operation` when someone listens to every operation; `cache:operation:sample` when this operation falls
 * in the sample (see `OPERATION_SAMPLING`); both when both apply. The sample costs the operations it skips one
 * decrement, and reads the clock only on the operations it takes.
 */
export function operationTracing(): Tracing<OperationContext> | undefined {
  if (channels === undefined) return undefined;
  const every = channels.operation;
  const sample = channels.operationSample;
  // `start` only: the whole channel's `hasSubscribers` reads five channels (see `Tracing.start`).
  const sampled = sample.start.hasSubscribers && --countdown <= 0 && takeSample();
  if (every.start.hasSubscribers) return sampled ? both(every, sample) : every;
  return sampled ? sample : undefined;
}

/**
 * Picks the next interval from the rate since the last sample, so about `perSecond` operations are sampled. It
 * at most doubles at a time, so a few calls in a row of a quiet service (a request's lookups) do not stop the
 * sampling for a long while; it falls at once when the calls slow down.
 */
function takeSample(): true {
  const now = performance.now();
  const elapsedMs = now - sampledAt;
  sampledAt = now;
  const perSecond = (interval * 1000) / Math.max(elapsedMs, 0.001);
  const ceiling = Math.min(interval * 2, OPERATION_SAMPLING.maxInterval);
  let next = 1;
  while (next < ceiling && perSecond / next > OPERATION_SAMPLING.perSecond) next *= 2;
  interval = next;
  countdown = next;
  return true;
}

/** One operation traced on both channels, with one context: the sample's trace inside the full one. */
function both(
  every: Tracing<OperationContext>,
  sample: Tracing<OperationContext>,
): Tracing<OperationContext> {
  return {
    hasSubscribers: true,
    start: every.start,
    tracePromise: (fn, context) => every.tracePromise(() => sample.tracePromise(fn, context), context),
    traceSync: (fn, context) => every.traceSync(() => sample.traceSync(fn, context), context),
  };
}

/** A fresh operation context (the fields filled before the end are set by the cache as it answers). */
export function operationContext(
  operation: TracedOperation,
  namespace: string,
  key: string | undefined,
): OperationContext {
  return { operation, namespace, key };
}

/** Marks what a traced `get` or `getOrSet` answered with; a no-op for an untraced call. */
export function answered(
  trace: OperationContext | undefined,
  outcome: 'hit' | 'stale' | 'miss',
  source?: string,
): void {
  if (trace === undefined) return;
  trace.outcome = outcome;
  if (source !== undefined) trace.source = source;
}

/**
 * Starts a loader run under a `cache:load` trace when someone listens, so spans the loader opens are children of
 * it; the trace ends when the run settles (value, failure or hard timeout), with its `outcome`.
 */
export function startLoad<T>(
  namespace: string,
  key: string,
  background: boolean,
  start: () => Flight<T>,
): Flight<T> {
  const load = channels?.load;
  if (load === undefined || !load.hasSubscribers) return start();
  const context: LoadContext = { namespace, key, background };
  let flight: Flight<T> | undefined;
  load
    .tracePromise(() => {
      const run = start();
      flight = run;
      return run.promise.then(
        (value) => {
          context.outcome = run.skipped ? 'skipped' : 'loaded';
          return value;
        },
        (error: unknown) => {
          context.outcome = CacheError.is(error, 'LOADER_TIMEOUT')
            ? 'timeout'
            : CacheError.is(error, 'CLOSED')
              ? 'aborted'
              : 'failed';
          throw error;
        },
      );
    }, context)
    .then(undefined, () => undefined); // the run's callers get its error; the trace only reports it
  return flight as Flight<T>;
}
