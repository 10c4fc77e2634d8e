import {
  CacheError,
  type Diagnostics,
  diagnostics,
  type LoadContext,
  type OperationContext,
  type Tracing,
  type TracedOperation,
} from '@cache/core';
import type { Flight } from './flight.js';

/**
 * The `diagnostics_channel` channels (`cache:operation`, `cache:load`), looked up once; `undefined` where the
 * runtime has none. Every use checks `hasSubscribers` first, so nobody listening costs one boolean read.
 */
export const channels: Diagnostics | undefined = diagnostics();

/** The operation channel when someone listens to it, else `undefined`. */
export function operationTracing(): Tracing<OperationContext> | undefined {
  const operation = channels?.operation;
  return operation?.hasSubscribers ? operation : undefined;
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
