/** A value that may be ready now or later. Backends that can answer synchronously (memory) return the value itself. */
export type Awaitable<T> = T | Promise<T>;

/** True when `value` is a promise or another thenable. */
export function isPromiseLike<T>(value: Awaitable<T> | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function';
}
