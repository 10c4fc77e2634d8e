/**
 * `pnpm --filter @cache/bench bench [filter...] [--rounds N] [--round-ms N] [--warmup-ms N] [--batch-ms N] [--no-write]`
 *
 * Runs every registered suite whose id contains one of the filters (all when none is given), prints each
 * suite's table and replaces that suite's section of RESULTS.md.
 */
import { parseArgs } from 'node:util';
import { batchSuite } from './cases/batch.js';
import { cacheSuite } from './cases/cache.js';
import { cacheLocksSuite } from './cases/cache-locks.js';
import { cacheTagsSuite } from './cases/cache-tags.js';
import { compressSuite } from './cases/compress.js';
import { formatsSuite } from './cases/formats.js';
import { httpSuite } from './cases/http.js';
import { memorySuite } from './cases/memory.js';
import { redisClusterSuite, redisSuite } from './cases/redis.js';
import { tieredSuite } from './cases/tiered.js';
import type { TimingOptions } from './harness/contender-run.js';
import { benchEnv, machineInfo, redisEndpoint, redisServerVersion } from './harness/environment.js';
import { renderSection, type SuiteReport } from './harness/report.js';
import { updateResultsFile } from './harness/results-file.js';
import { type CaseResult, runCase } from './harness/run-case.js';
import type { BenchEnv, Suite } from './harness/types.js';

/** Every suite, in RESULTS.md order. A new case file is registered by adding its suite here. */
const SUITES: readonly Suite[] = [
  memorySuite,
  formatsSuite,
  compressSuite,
  redisSuite,
  redisClusterSuite,
  batchSuite,
  tieredSuite,
  cacheSuite,
  cacheTagsSuite,
  cacheLocksSuite,
  httpSuite,
];

const RESULTS_FILE = new URL('../RESULTS.md', import.meta.url);

const log = (line: string) => process.stderr.write(`${line}\n`);

function positiveNumber(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${flag} needs a positive number, got "${text}"`);
  return value;
}

/** Why a suite cannot run here, or undefined when it can. */
function missingRequirement(suite: Suite, env: BenchEnv): string | undefined {
  const requires = suite.requires ?? [];
  if (requires.includes('redis') && env.redisUrl === undefined) {
    return 'no Redis: REDIS_URL is not set (the root `pnpm bench` starts a server and sets it).';
  }
  if (requires.includes('redis-cluster') && env.clusterNodes.length === 0) {
    return 'no Redis Cluster: REDIS_CLUSTER_NODES is not set (the root `pnpm bench` starts one and sets it).';
  }
  return undefined;
}

async function describeRedis(suite: Suite, env: BenchEnv): Promise<string> {
  const requires = suite.requires ?? [];
  const parts: string[] = [];
  if (requires.includes('redis') && env.redisUrl !== undefined) {
    parts.push(`${await redisServerVersion(env.redisUrl)} at ${redisEndpoint(env.redisUrl)}`);
  }
  const [first] = env.clusterNodes;
  if (requires.includes('redis-cluster') && first !== undefined) {
    const version = await redisServerVersion(`redis://${first}`);
    parts.push(`cluster of ${env.clusterNodes.length} nodes, ${version} at ${first}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'not used';
}

async function runSuite(suite: Suite, env: BenchEnv, options: TimingOptions): Promise<SuiteReport> {
  const base = { suite, date: new Date(), machine: machineInfo(), options };
  const missing = missingRequirement(suite, env);
  if (missing !== undefined) {
    log(`${suite.id}: skipped: ${missing}`);
    return { ...base, redis: 'not available', results: [], skipped: missing };
  }
  const redis = await describeRedis(suite, env);
  const results: CaseResult[] = [];
  for (const testCase of await suite.cases(env)) {
    log(`${suite.id} / ${testCase.name}`);
    results.push(...(await runCase(testCase, options, log)));
  }
  const extras = (await suite.extras?.(env, log)) ?? [];
  return { ...base, redis, results, extras };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: 'string' },
      'round-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      'batch-ms': { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
    },
  });
  if (values.list) {
    for (const suite of SUITES) process.stdout.write(`${suite.id}\t${suite.title}\n`);
    return 0;
  }
  const options: TimingOptions = {
    rounds: Math.round(positiveNumber(values.rounds, 10, 'rounds')),
    roundMs: positiveNumber(values['round-ms'], 100, 'round-ms'),
    warmupMs: positiveNumber(values['warmup-ms'], 250, 'warmup-ms'),
    batchTargetMs: positiveNumber(values['batch-ms'], 0.25, 'batch-ms'),
  };
  const filters = positionals.map((p) => p.toLowerCase());
  const selected = SUITES.filter(
    (s) => filters.length === 0 || filters.some((f) => s.id.toLowerCase().includes(f)),
  );
  if (selected.length === 0) {
    log(`no suite matches ${filters.join(', ')}; suites: ${SUITES.map((s) => s.id).join(', ')}`);
    return 1;
  }
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    log('note: run with --expose-gc (as `pnpm bench` does) so a full GC runs before every timed slot');
  }

  const env = benchEnv();
  const sections = new Map<string, string>();
  let broken = false;
  for (const suite of selected) {
    const started = Date.now();
    const report = await runSuite(suite, env, options);
    const section = renderSection(report);
    sections.set(suite.id, section);
    process.stdout.write(`\n${section}\n\n`);
    log(`${suite.id}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Ours or the reference failing is a bug to look at; a peer or variant that will not run is only noted.
    broken ||= report.results.some((r) =>
      r.contenders.some(
        (c) =>
          (c.role === 'ours' || c.role === 'reference') &&
          c.problem !== undefined &&
          !c.problem.startsWith('skipped'),
      ),
    );
  }
  if (!values['no-write']) {
    await updateResultsFile(
      RESULTS_FILE,
      sections,
      SUITES.map((s) => s.id),
    );
    log(`wrote ${RESULTS_FILE.pathname}`);
  }
  return broken ? 1 : 0;
}

process.exitCode = await main();
