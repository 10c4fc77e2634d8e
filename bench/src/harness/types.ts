/**
 * The shapes a case file fills in. A suite is one area (memory, formats, redis, ...); it builds its cases once
 * the environment is known; each case times one operation for several contenders, side by side.
 */

/**
 * Where a contender stands in a case: ours, the bar we measure against (exactly one per case), the reference
 * configured another way for context (a `variant`), or a library users would otherwise pick (a `peer`).
 */
export type Role = 'ours' | 'reference' | 'variant' | 'peer';

/** One timed operation. `i` grows by one per call (wrapping at 2^30), so ops can walk prepared data with it. */
export type Op = (i: number) => unknown;

/** What a contender hands the harness once its data is in place: the operation to time, and how to clean up. */
export interface Prepared {
  /** The operation. Its result is consumed by the harness, so it cannot be optimised away. */
  readonly op: Op;
  /** True when `op` returns a promise: the harness awaits each call. */
  readonly async: boolean;
  /** Releases what `setup` created (connections, timers). */
  teardown?(): Promise<void> | void;
  /**
   * Called before each of the contender's slots (warm-up and rounds), with `leave` after it: for state that must
   * not outlive the slot, such as a process-wide subscriber that would also observe the other contenders.
   */
  enter?(): Promise<void> | void;
  leave?(): Promise<void> | void;
}

/** A library measured in a case. */
export interface Contender {
  /** Shown in the table, e.g. `@cache/memory` or `lru-cache 11`. */
  readonly name: string;
  readonly role: Role;
  /** A short remark printed under the table (configuration that matters when reading the figure). */
  readonly note?: string;
  /** Builds the contender's state and fills it with data, outside any timed loop. */
  setup(): Promise<Prepared> | Prepared;
}

/**
 * How a case is timed:
 * - `batched`: for operations of tens of nanoseconds. The op runs in batches sized to take about
 *   `batchTargetMs`; per-op latency is batch time / batch size, so the p99 is over batches, not single ops.
 *   Async contenders await each op in turn (one in flight).
 * - `concurrent`: for async operations of microseconds and more. `inFlight` loops run at once, each awaiting
 *   its op; every op is timed on its own and ops/s is counted over the whole round. One table row per level.
 */
export type Timing =
  | { readonly kind: 'batched' }
  | { readonly kind: 'concurrent'; readonly inFlight: readonly number[] };

/** What every result of a case must look like, checked on the warm-up: catches a "hit" case that misses. */
export type Expectation = 'defined' | 'undefined';

/** A reported, never asserted, goal: ours ops/s divided by the reference's ops/s at least `minRatio`. */
export interface Target {
  readonly minRatio: number;
  /** How the goal was phrased, e.g. "get hit costs at most 1.3x lru-cache's". */
  readonly text: string;
}

/** One operation measured for several contenders. Exactly one contender has the `reference` role. */
export interface Case {
  /** Row label, e.g. `get hit`. */
  readonly name: string;
  readonly timing: Timing;
  readonly expect?: Expectation;
  readonly target?: Target;
  /** A goal of ours ops/s divided by each peer's ops/s (rather than the reference's), reported per peer. */
  readonly peerTarget?: Target;
  readonly contenders: readonly Contender[];
  /** When set, the case is not run and its rows say why (e.g. the Redis it needs is missing). */
  readonly skip?: string;
}

/** What the environment offers a suite: the Redis servers `pnpm bench` started, if any. */
export interface BenchEnv {
  /** From `REDIS_URL`. */
  readonly redisUrl: string | undefined;
  /** From `REDIS_CLUSTER_NODES` (comma-separated host:port). */
  readonly clusterNodes: readonly string[];
}

/** A dependency a suite cannot run without; the suite is skipped with a note when it is missing. */
export type Requirement = 'redis' | 'redis-cluster';

/** One area of benchmarks, exported by a file in `src/cases/`. */
export interface Suite {
  /** Short id matched by the command-line filter and used for its RESULTS.md section, e.g. `memory`. */
  readonly id: string;
  readonly title: string;
  /** A few sentences on what is measured and how the contenders are configured, printed in RESULTS.md. */
  readonly description: string;
  readonly requires?: readonly Requirement[];
  /** Builds the cases. Data the contenders share may be built here (it is untimed); each one's own state belongs in its `setup`. */
  cases(env: BenchEnv): Promise<readonly Case[]> | readonly Case[];
  /**
   * Measurements that are not ops/s (a stampede's loader calls, latencies through an outage), run after the
   * cases; each returns a Markdown block printed under the suite's table.
   */
  extras?(env: BenchEnv, log: (line: string) => void): Promise<readonly string[]>;
}
