import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Samples } from './stats.js';
import {
  type AsyncBatch,
  checkBatch,
  compileAsyncBatch,
  compileSyncBatch,
  consume,
  nowNs,
  type SyncBatch,
} from './timing-loops.js';
import type { Contender, Expectation, Prepared } from './types.js';

const CURSOR_WRAP = 2 ** 30;
const MAX_BATCH = 1 << 22;

/** Timing parameters shared by every case of a run. */
export interface TimingOptions {
  /** Measured rounds per contender. */
  readonly rounds: number;
  /** Length of one contender's slot in a round. */
  readonly roundMs: number;
  /** Untimed run per contender before the rounds (also sizes the batches). */
  readonly warmupMs: number;
  /** Batched timing: batches are grown until one takes at least this long. */
  readonly batchTargetMs: number;
}

/** One contender's state through a case: its prepared op, its own compiled loops, and what was measured. */
export class ContenderRun {
  readonly contender: Contender;
  readonly prepared: Prepared;
  readonly #expect: Expectation | undefined;
  readonly #syncBatch: SyncBatch = compileSyncBatch();
  readonly #asyncBatch: AsyncBatch = compileAsyncBatch();
  #cursor = 0;
  /** Ops per batch (batched timing), fixed after the warm-up. */
  batchSize = 1;
  /** Ops/s of each measured round. */
  readonly roundRates: number[] = [];
  /** Per-op latency samples in ns: one per batch (batched) or one per op (concurrent). */
  readonly latencies: Samples = new Samples();
  /** Set when the op threw or broke the case's expectation; the contender then sits out the remaining rounds. */
  failure: string | undefined;

  constructor(contender: Contender, prepared: Prepared, expect: Expectation | undefined) {
    this.contender = contender;
    this.prepared = prepared;
    this.#expect = expect;
  }

  /** Starts a new timing level (another in-flight count): forgets the samples of the previous one. */
  reset(): ContenderRun {
    const fresh = new ContenderRun(this.contender, this.prepared, this.#expect);
    fresh.failure = this.failure;
    return fresh;
  }

  /** Untimed batches for `ms`, doubling the batch size until one batch lasts `batchTargetMs`. */
  async warmBatched(ms: number, batchTargetMs: number): Promise<void> {
    const targetNs = batchTargetMs * 1e6;
    const deadline = nowNs() + ms * 1e6;
    while (nowNs() < deadline) {
      const spent = await this.#batch(this.batchSize);
      await yieldToEventLoop();
      if (spent < targetNs && this.batchSize < MAX_BATCH) this.batchSize *= 2;
    }
  }

  /** One measured round of batched timing: batches until `ms` of batch time is spent. */
  async roundBatched(ms: number): Promise<void> {
    const budgetNs = ms * 1e6;
    const n = this.batchSize;
    let spent = 0;
    let ops = 0;
    while (spent < budgetNs) {
      const ns = await this.#batch(n);
      // Untimed: timers and callbacks run between batches, as they would between requests in a server. Without
      // it a whole case would run in one event-loop turn, and caches that refresh a clock from a timer
      // (lru-cache's ttlResolution) would never read the clock at all.
      await yieldToEventLoop();
      this.latencies.push(ns / n);
      spent += ns;
      ops += n;
    }
    this.roundRates.push((ops * 1e9) / spent);
  }

  /** One round of `inFlight` concurrent loops for `ms` (untimed when `record` is false, for the warm-up). */
  async roundConcurrent(ms: number, inFlight: number, record: boolean): Promise<void> {
    const { op } = this.prepared;
    const expect = this.#expect;
    const latencies = this.latencies;
    const deadline = nowNs() + ms * 1e6;
    let ops = 0;
    let failure: { error: unknown } | undefined;
    const loop = async (): Promise<void> => {
      try {
        let t1 = nowNs();
        while (failure === undefined && t1 < deadline) {
          const i = this.#cursor;
          this.#cursor = (i + 1) % CURSOR_WRAP;
          const t0 = nowNs();
          const result = await op(i);
          t1 = nowNs();
          if (record) latencies.push(t1 - t0);
          checkBatch(expect, result === undefined ? 0 : 1, 1);
          consume(result);
          ops++;
        }
      } catch (error) {
        failure ??= { error };
      }
    };
    const start = nowNs();
    await Promise.all(Array.from({ length: inFlight }, loop));
    const elapsed = nowNs() - start;
    if (failure !== undefined) throw failure.error;
    if (record) this.roundRates.push((ops * 1e9) / elapsed);
  }

  /** Runs one batch of `n` ops and returns its duration in ns. */
  async #batch(n: number): Promise<number> {
    const { op, async } = this.prepared;
    const start = this.#cursor;
    let defined: number;
    let ns: number;
    if (async) {
      const t0 = nowNs();
      defined = await this.#asyncBatch(op, start, n);
      ns = nowNs() - t0;
    } else {
      const t0 = nowNs();
      defined = this.#syncBatch(op, start, n);
      ns = nowNs() - t0;
    }
    this.#cursor = (start + n) % CURSOR_WRAP;
    checkBatch(this.#expect, defined, n);
    return ns;
  }
}
