import { type Awaitable, isPromiseLike } from '../awaitable.js';

/** A layer call that failed: thrown synchronously or rejected. */
export interface Failed {
  readonly ok: false;
  readonly error: unknown;
}

/** How a layer call ended. Never thrown, so two of them can be awaited together without losing either. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | Failed;

function succeeded<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

function failed(error: unknown): Failed {
  return { ok: false, error };
}

/** Runs `run` and captures how it ended. Stays synchronous when `run` answers synchronously; never throws. */
export function attempt<T>(run: () => Awaitable<T>): Awaitable<Outcome<T>> {
  let result: Awaitable<T>;
  try {
    result = run();
  } catch (error) {
    return failed(error);
  }
  if (isPromiseLike(result)) return Promise.resolve(result).then(succeeded, failed);
  return succeeded(result as T);
}

/** Applies `next` to `value` now if it is ready, or when it is. */
export function andThen<A, B>(value: Awaitable<A>, next: (value: A) => Awaitable<B>): Awaitable<B> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value as A);
}

/** Waits for both outcomes, synchronously when both are ready, and applies `next` to them. */
export function both<A, B, R>(
  first: Awaitable<Outcome<A>>,
  second: Awaitable<Outcome<B>>,
  next: (first: Outcome<A>, second: Outcome<B>) => Awaitable<R>,
): Awaitable<R> {
  if (!isPromiseLike(first) && !isPromiseLike(second)) return next(first, second);
  return Promise.all([first, second]).then(([a, b]) => next(a, b));
}

/** The failure of an outcome, or `undefined` when it succeeded. */
export function failureOf<T>(outcome: Outcome<T>): Failed | undefined {
  return outcome.ok ? undefined : outcome;
}
