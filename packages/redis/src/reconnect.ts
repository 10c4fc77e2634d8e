/** How long to wait before reconnection attempt `retries` after `cause`, or false to stop (see `reconnectStrategy`). */
export type RetryDelay = (retries: number, cause: Error) => number | false;

/**
 * Owns the wait between reconnection attempts of a client the package opened. node-redis waits with a timer its
 * API cannot cancel, which kept a closed backend's process alive until it fired (up to `maxDelayMs`); so our
 * clients are made with node-redis' own retries off, and the next attempt (a fresh client) is scheduled here, on a
 * timer that {@link close} clears.
 */
export class Reconnector {
  readonly #delay: RetryDelay;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retries = 0;
  #closed = false;

  constructor(delay: RetryDelay) {
    this.#delay = delay;
  }

  /** True while an attempt is scheduled: operations fail fast with the last error meanwhile. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** A connection came up: the backoff starts again from its first delay. */
  connected(): void {
    this.#retries = 0;
  }

  /** A client stopped for good (node-redis does at once, as told): runs `reopen` after the backoff delay. */
  lost(cause: unknown, reopen: () => void): void {
    if (this.#closed || this.#timer !== undefined) return;
    const ms = this.#delay(this.#retries++, cause instanceof Error ? cause : new Error(String(cause)));
    if (ms === false) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) reopen();
    }, ms);
  }

  /** No attempt is made from now on, and none keeps the event loop alive. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
