import type { BackendLabel } from '../backend-label.js';
import { CacheError } from '../errors.js';
import type { CompositionErrorEvent } from './events.js';

/**
 * How a composition reads:
 * - `sequential`: L1, then L2 when L1 misses or fails. An L1 hit answered synchronously is returned synchronously.
 * - `race`: L1 and L2 at once, the first hit wins. An L1 hit answered synchronously wins before L2 is asked.
 * - `parallel`: L1 and L2 at once, both awaited; of two live hits the one that expires later wins.
 */
export type ReadPolicy = 'sequential' | 'race' | 'parallel';

/**
 * How a composition writes:
 * - `sequential`: L1, then L2; strict: fails as soon as one layer fails (L2 is not tried after an L1 failure, and
 *   L1 drops the new value again after an L2 failure).
 * - `parallel`: both at once, succeeds when at least one layer stored the value (hitbox's optimistic parallel).
 * - `race`: both at once, resolves on the first success; the other write goes on in the background.
 */
export type WritePolicy = 'sequential' | 'parallel' | 'race';

/**
 * Whether an L2 hit is copied into L1 (`always`) or not (`never`). Only fresh (`actual`) hits are copied, with the
 * same absolute expire and stale instants.
 */
export type RefillPolicy = 'always' | 'never';

/**
 * What a race does with the layer that lost. A started operation cannot be cancelled in JavaScript, so the loser
 * always runs to its end inside its layer; the policy says whether the composition keeps following it.
 * - `background`: followed to the end: a failed losing write is repaired (see the composition guide) and
 *   `whenIdle()` waits for it.
 * - `drop`: not followed: no repair, not awaited by `whenIdle()`.
 * A loser's error is reported through `onError` under both policies.
 */
export type RaceLoserPolicy = 'background' | 'drop';

/** Options of {@link compose}. */
export interface CompositionOptions {
  /**
   * Name of the composition, the first segment of the `ReadInfo.source` path of its hits (`"cache.memory"`).
   * @default "cache"
   */
  readonly label?: BackendLabel;
  /** @default "sequential" */
  readonly readPolicy?: ReadPolicy;
  /** @default "parallel" */
  readonly writePolicy?: WritePolicy;
  /**
   * Copy fresh L2 hits into L1. On by default: an L1 is there to absorb reads, and without refill it only ever
   * holds what this process wrote itself.
   * @default "always"
   */
  readonly refill?: RefillPolicy;
  /** @default "background" */
  readonly raceLoser?: RaceLoserPolicy;
  /**
   * Receives every layer error the composition did not throw: an L1 error hidden by an L2 hit, a failed refill,
   * the failed half of a parallel or race write, a losing race's error, a failed repair. Errors the composition
   * throws are not reported here too. It must not throw; if it does, the error is rethrown in a microtask.
   * @default a `console.warn` of one line per error
   */
  readonly onError?: (event: CompositionErrorEvent) => void;
  /**
   * Clock in Unix milliseconds, used to tell fresh from stale hits (refill) and to rank hits (parallel reads).
   * In tests, give it the same clock as the layers.
   * @default Date.now
   */
  readonly now?: () => number;
}

/** {@link CompositionOptions} with every default applied. */
export interface ResolvedCompositionOptions {
  readonly label: BackendLabel;
  readonly readPolicy: ReadPolicy;
  readonly writePolicy: WritePolicy;
  readonly refill: RefillPolicy;
  readonly raceLoser: RaceLoserPolicy;
  readonly onError: (event: CompositionErrorEvent) => void;
  readonly now: () => number;
}

/** The default `onError`: one line on the console, so a swallowed error is never silent. */
export function warnOnConsole(event: CompositionErrorEvent): void {
  console.warn(
    `[cache] composition "${event.composition}" kept going after ${event.operation} failed in "${event.backend}": ${event.error.message}`,
  );
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new CacheError(
      'INVALID_OPTIONS',
      `compose: ${name} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${String(value)}`,
    );
  }
  return value as T;
}

/** Checks the options and applies defaults. Throws `INVALID_OPTIONS` naming the bad option. */
export function resolveCompositionOptions(options: CompositionOptions): ResolvedCompositionOptions {
  const { label = 'cache', onError = warnOnConsole, now = Date.now } = options;
  if (typeof label !== 'string') throw new CacheError('INVALID_OPTIONS', 'compose: label must be a string');
  if (typeof onError !== 'function')
    throw new CacheError('INVALID_OPTIONS', 'compose: onError must be a function');
  if (typeof now !== 'function') throw new CacheError('INVALID_OPTIONS', 'compose: now must be a function');
  return {
    label,
    readPolicy: oneOf(options.readPolicy, ['sequential', 'race', 'parallel'], 'readPolicy', 'sequential'),
    writePolicy: oneOf(options.writePolicy, ['sequential', 'parallel', 'race'], 'writePolicy', 'parallel'),
    refill: oneOf(options.refill, ['always', 'never'], 'refill', 'always'),
    raceLoser: oneOf(options.raceLoser, ['background', 'drop'], 'raceLoser', 'background'),
    onError,
    now,
  };
}
