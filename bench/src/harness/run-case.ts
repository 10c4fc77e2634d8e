import { ContenderRun, type TimingOptions } from './contender-run.js';
import { median, percentile } from './stats.js';
import type { Case, Role } from './types.js';

/** What one contender scored in one row. */
export interface ContenderResult {
  readonly name: string;
  readonly role: Role;
  readonly note: string | undefined;
  /** Why there is no figure (setup failed, op threw, expectation broken); undefined when measured. */
  readonly problem: string | undefined;
  /** Median over rounds. */
  readonly opsPerSec: number;
  /** Half the range of the rounds' ops/s, relative to the median. */
  readonly spread: number;
  readonly p99Ns: number;
  /** What a latency sample is: "4,096-op batches" or "single ops". */
  readonly latencyBasis: string;
  /** opsPerSec / the reference's opsPerSec; undefined when either is missing. */
  readonly ratio: number | undefined;
}

/** A target checked for one of our contenders. */
export interface TargetResult {
  readonly contender: string;
  /** What the contender was divided by: `reference`, or a peer's name. */
  readonly versus: string;
  readonly text: string;
  readonly minRatio: number;
  readonly ratio: number | undefined;
  readonly met: boolean;
}

/** One table row group: a case at one timing level. */
export interface CaseResult {
  readonly label: string;
  readonly contenders: readonly ContenderResult[];
  readonly targets: readonly TargetResult[];
}

/** Prints progress; the harness never writes to stdout mid-case. */
export type Log = (line: string) => void;

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Measures one case: sets every contender up, then per timing level warms each up and runs the rounds,
 * round-robin between contenders with the starting contender rotating each round, a full GC before every slot.
 */
export async function runCase(testCase: Case, options: TimingOptions, log: Log): Promise<CaseResult[]> {
  if (testCase.skip !== undefined) return [skipped(testCase, testCase.skip)];
  const references = testCase.contenders.filter((c) => c.role === 'reference');
  if (references.length !== 1) {
    throw new Error(
      `case "${testCase.name}" needs exactly one reference contender, has ${references.length}`,
    );
  }
  let runs: ContenderRun[] = [];
  const setupProblems = new Map<string, string>();
  for (const contender of testCase.contenders) {
    try {
      runs.push(new ContenderRun(contender, await contender.setup(), testCase.expect));
    } catch (error) {
      setupProblems.set(contender.name, `did not set up: ${message(error)}`);
      log(`  ${contender.name}: did not set up: ${message(error)}`);
    }
  }

  const levels = testCase.timing.kind === 'batched' ? [0] : testCase.timing.inFlight;
  const results: CaseResult[] = [];
  try {
    for (const inFlight of levels) {
      runs = runs.map((run) => run.reset());
      const label = inFlight === 0 ? testCase.name : `${testCase.name}, ${inFlight} in flight`;
      log(`  ${label}: warm-up`);
      for (const run of runs) await slot(run, inFlight, options, 'warm-up');
      for (let round = 0; round < options.rounds; round++) {
        for (let j = 0; j < runs.length; j++) {
          await slot(runs[(j + round) % runs.length] as ContenderRun, inFlight, options, 'round');
        }
      }
      results.push(summarise(testCase, label, runs, setupProblems, inFlight));
      log(`  ${label}: done`);
    }
  } finally {
    for (const run of runs) {
      try {
        await run.prepared.teardown?.();
      } catch (error) {
        log(`  ${run.contender.name}: teardown failed: ${message(error)}`);
      }
    }
  }
  return results;
}

function skipped(testCase: Case, reason: string): CaseResult {
  const contenders = testCase.contenders.map(
    (c): ContenderResult => ({
      name: c.name,
      role: c.role,
      note: c.note,
      problem: `skipped: ${reason}`,
      opsPerSec: Number.NaN,
      spread: Number.NaN,
      p99Ns: Number.NaN,
      latencyBasis: '',
      ratio: undefined,
    }),
  );
  return { label: testCase.name, contenders, targets: [] };
}

async function slot(run: ContenderRun, inFlight: number, options: TimingOptions, phase: 'warm-up' | 'round') {
  if (run.failure !== undefined) return;
  gc?.();
  try {
    await run.prepared.enter?.();
    if (inFlight === 0) {
      if (phase === 'warm-up') await run.warmBatched(options.warmupMs, options.batchTargetMs);
      else await run.roundBatched(options.roundMs);
    } else {
      const ms = phase === 'warm-up' ? options.warmupMs : options.roundMs;
      await run.roundConcurrent(ms, inFlight, phase === 'round');
    }
  } catch (error) {
    run.failure = `failed: ${message(error)}`;
  } finally {
    await run.prepared.leave?.();
  }
}

function summarise(
  testCase: Case,
  label: string,
  runs: readonly ContenderRun[],
  setupProblems: ReadonlyMap<string, string>,
  inFlight: number,
): CaseResult {
  const measured = new Map(runs.map((run) => [run.contender.name, run]));
  const rate = (run: ContenderRun | undefined) =>
    run === undefined || run.failure !== undefined ? Number.NaN : median(run.roundRates);
  const reference = testCase.contenders.find((c) => c.role === 'reference');
  const referenceRate = rate(reference && measured.get(reference.name));

  const contenders = testCase.contenders.map((contender): ContenderResult => {
    const run = measured.get(contender.name);
    const opsPerSec = rate(run);
    const rates = run?.roundRates ?? [];
    const ratio = opsPerSec / referenceRate;
    return {
      name: contender.name,
      role: contender.role,
      note: contender.note,
      problem: setupProblems.get(contender.name) ?? run?.failure,
      opsPerSec,
      spread: rates.length > 0 ? (Math.max(...rates) - Math.min(...rates)) / 2 / opsPerSec : Number.NaN,
      p99Ns: run === undefined ? Number.NaN : percentile(run.latencies.sorted(), 99),
      latencyBasis:
        inFlight > 0 ? 'single ops' : `${(run?.batchSize ?? 0).toLocaleString('en-US')}-op batches`,
      ratio: Number.isFinite(ratio) ? ratio : undefined,
    };
  });

  const targets: TargetResult[] = [];
  if (testCase.target !== undefined) {
    for (const result of contenders) {
      if (result.role !== 'ours') continue;
      const { minRatio, text } = testCase.target;
      const met = result.ratio !== undefined && result.ratio >= minRatio;
      targets.push({ contender: result.name, versus: 'reference', text, minRatio, ratio: result.ratio, met });
    }
  }
  if (testCase.peerTarget !== undefined) {
    const { minRatio, text } = testCase.peerTarget;
    for (const result of contenders) {
      if (result.role !== 'ours') continue;
      for (const peer of contenders) {
        if (peer.role !== 'peer') continue;
        const quotient = result.opsPerSec / peer.opsPerSec;
        const ratio = Number.isFinite(quotient) ? quotient : undefined;
        const met = ratio !== undefined && ratio >= minRatio;
        targets.push({ contender: result.name, versus: peer.name, text, minRatio, ratio, met });
      }
    }
  }
  return { label, contenders, targets };
}
