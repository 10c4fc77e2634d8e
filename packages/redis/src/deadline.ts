import { CacheError } from '@cache/core';

/** How long a command may wait for its reply, unless the options say (`responseTimeoutMs`). */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 2000;
/** How long a connection may take to open, unless the options say (`connectTimeoutMs`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * A duration option: `fallback` when absent, else a positive finite number of milliseconds, else `INVALID_OPTIONS`
 * naming the option (after `owner`, e.g. `"redisLocks: "`, when given).
 */
export function positiveMs(value: number | undefined, fallback: number, name: string, owner = ''): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new CacheError('INVALID_OPTIONS', `${owner}${name} must be a positive number of milliseconds`);
  }
  return value;
}

/**
 * Settles with `work`, or rejects with `onTimeout()` once `ms` have passed, whichever comes first. The timer is
 * cleared as soon as `work` settles, and a `work` that loses the race still has its rejection handled, so a late
 * failure never becomes an unhandled rejection. node-redis' own timeouts stop counting once a command is written
 * to the socket, so this is what bounds a command sent to a server that hangs.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // The timer rejects one turn of the event loop later (setImmediate runs after the I/O phase): when the process
    // itself was too busy to read its sockets, a reply that did arrive in time is delivered first, not turned into a
    // timeout. A server that did not answer still fails at the deadline, plus that one turn.
    const timer = setTimeout(() => setImmediate(() => reject(onTimeout())), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Raised by {@link withDeadline} callers; mapped to a `TIMEOUT` CacheError by the backend. */
export class DeadlineError extends Error {
  /** What was waited for: `"command"` or `"connection"`. */
  readonly waitingFor: 'command' | 'connection';
  constructor(ms: number, waitingFor: 'command' | 'connection') {
    super(
      waitingFor === 'connection'
        ? `no connection to Redis within the ${ms} ms deadline`
        : `Redis did not answer within the ${ms} ms deadline`,
    );
    this.name = 'DeadlineError';
    this.waitingFor = waitingFor;
  }
}
