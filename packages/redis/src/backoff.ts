import { isServerReply } from './redis-errors.js';

/** How a lost connection is retried: exponential backoff with jitter, as hitbox's connection manager does. */
export interface BackoffOptions {
  /**
   * Reconnection attempts after a connection is lost (or fails to open) before the client stops trying in the
   * background. Nothing is lost by stopping: the next operation starts a fresh connection.
   * @default Infinity
   */
  readonly retries?: number;
  /** Growth factor between attempts: attempt `n` waits `delayMs * base^n`. @default 2 */
  readonly base?: number;
  /** Wait before the first retry, in milliseconds. @default 50 */
  readonly delayMs?: number;
  /** Longest wait between two attempts, in milliseconds. @default 2000 */
  readonly maxDelayMs?: number;
}

/** Backoff settings with every default filled in. */
export interface ResolvedBackoff {
  readonly retries: number;
  readonly base: number;
  readonly delayMs: number;
  readonly maxDelayMs: number;
}

/** Fills in the defaults of {@link BackoffOptions}. */
export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  return {
    retries: options.retries ?? Number.POSITIVE_INFINITY,
    base: options.base ?? 2,
    delayMs: options.delayMs ?? 50,
    maxDelayMs: options.maxDelayMs ?? 2000,
  };
}

/**
 * A node-redis `socket.reconnectStrategy`: unlike node-redis' default it also reconnects after a socket timeout,
 * and it gives up at once when the server refuses the handshake (wrong password, missing ACL permission): retrying
 * cannot fix that, and the error reaches the caller as `AUTH` instead of a stream of reconnects.
 */
export function reconnectStrategy(
  backoff: ResolvedBackoff,
): (retries: number, cause: Error) => number | false {
  return (retries, cause) => {
    if (isServerReply(cause) || retries >= backoff.retries) return false;
    const delay = Math.min(backoff.maxDelayMs, backoff.delayMs * backoff.base ** retries);
    return Math.round(delay * (0.8 + Math.random() * 0.4));
  };
}
