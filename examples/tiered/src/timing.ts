/** Small timing helpers for the demo: figures are from one run on your machine, so read them as orders of size. */

/** Runs `op` `count` times and returns the mean time per call in nanoseconds (for synchronous calls). */
export function nsPerOp(count: number, op: (i: number) => unknown): number {
  let sink: unknown;
  for (let i = 0; i < Math.min(count, 10_000); i++) sink = op(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) sink = op(i);
  const ns = Number(process.hrtime.bigint() - start) / count;
  if (sink === Symbol.for('never')) console.log(sink);
  return ns;
}

/** Awaits `op` once per item, one at a time, and returns the median time per call in microseconds. */
export async function medianMicros<T>(
  items: readonly T[],
  op: (item: T) => Promise<unknown>,
): Promise<number> {
  const times: number[] = [];
  for (const item of items) {
    const start = process.hrtime.bigint();
    await op(item);
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

/** `1234.5` µs as "1.23 ms", `12.3` as "12.3 µs", `0.0456` as "46 ns". */
export function duration(micros: number): string {
  if (micros >= 1000) return `${(micros / 1000).toFixed(2)} ms`;
  if (micros >= 1) return `${micros.toFixed(1)} µs`;
  return `${Math.round(micros * 1000)} ns`;
}

/** A Redis URL with any password masked, for printing. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable REDIS_URL)';
  }
}
