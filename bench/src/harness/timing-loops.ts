import type { Expectation, Op } from './types.js';

/**
 * Where every timed loop stores its last result. A result written to a reachable object cannot be dropped by the
 * compiler, and the loops also count defined results, so every op's return value is used.
 */
const sink: { value: unknown } = { value: undefined };

/** Runs `op(start) .. op(start + n - 1)` and returns how many results were not `undefined`. */
export type SyncBatch = (op: Op, start: number, n: number) => number;
/** The same, awaiting each op before the next. */
export type AsyncBatch = (op: Op, start: number, n: number) => Promise<number>;

const LOOP_BODY = (awaitKeyword: string) => `
  let defined = 0;
  let last;
  const end = start + n;
  for (let i = start; i < end; i++) {
    last = ${awaitKeyword}op(i);
    if (last !== undefined) defined++;
  }
  sink.value = last;
  return defined;`;

/**
 * Compiles a fresh copy of the batch loop. Each contender gets its own, so V8's type feedback for the `op(i)` call
 * site only ever sees that contender's function: a shared loop would turn polymorphic and slow down whoever runs
 * after the first one. The source is a constant; nothing from outside is evaluated.
 */
export function compileSyncBatch(): SyncBatch {
  return new Function('sink', `return function batch(op, start, n) {${LOOP_BODY('')}\n};`)(sink) as SyncBatch;
}

/** {@link compileSyncBatch} for contenders whose op returns a promise. */
export function compileAsyncBatch(): AsyncBatch {
  return new Function('sink', `return async function batch(op, start, n) {${LOOP_BODY('await ')}\n};`)(
    sink,
  ) as AsyncBatch;
}

/** Throws when a batch's results do not match the case's expectation (a "hit" case that missed, say). */
export function checkBatch(expect: Expectation | undefined, defined: number, n: number): void {
  if (expect === 'defined' && defined !== n) {
    throw new Error(`expected every op to return a value, but ${n - defined} of ${n} returned undefined`);
  }
  if (expect === 'undefined' && defined !== 0) {
    throw new Error(`expected every op to return undefined, but ${defined} of ${n} returned a value`);
  }
}

/** Stores a result where the compiler cannot prove it unused. */
export function consume(value: unknown): void {
  sink.value = value;
}

/** Monotonic nanoseconds as a double (exact below 2^53 ns, about 104 days of uptime). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}
