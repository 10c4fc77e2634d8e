/**
 * Cross-process stampede protection (`createCache({ locks: redisLocks(...) })`): the stampede across 4 processes
 * sharing one Redis (loader calls, caller latency against the loader time), with BentoCache and cache-manager
 * over the same Redis in the same run; and what locks cost on the hit path (nothing: a hit takes no lock).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Cache } from '@cache/cache';
import { jsonDocuments } from '../data/documents.js';
import { median, percentile } from '../harness/stats.js';
import type { BenchEnv, Case, Contender, Prepared, Suite } from '../harness/types.js';
import { CALLERS_PER_KEY, KEYS, LOADER_MS, type LockLibrary } from './cache-locks-worker.js';

const PROCESSES = 4;
const ROUNDS = 3;
/** Callers per key and process: the figure, and a tenth of it (what a loaded machine keeps up with). */
const LOADS = [CALLERS_PER_KEY, CALLERS_PER_KEY / 10] as const;
const HIT_KEYS = 1024;
const WORKER = fileURLToPath(new URL('./cache-locks-worker.ts', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url));

const LIBRARIES: readonly { readonly id: LockLibrary; readonly name: string; readonly note: string }[] = [
  {
    id: 'ours',
    name: '**@cache/cache + redisLocks** (ours)',
    note: '`createCache({ store: compose(memoryBackend, RedisBackend), locks: redisLocks({ url, backend }) })`, defaults otherwise',
  },
  {
    id: 'ours-no-locks',
    name: '@cache/cache without locks (ours)',
    note: 'the same cache without `locks`: one loader per key per process',
  },
  {
    id: 'bentocache',
    name: 'BentoCache 1.6 (peer)',
    note: '`bentostore().useL1Layer(memoryDriver()).useL2Layer(redisDriver(...))`, `getOrSet({ key, factory, ttl })`',
  },
  {
    id: 'cache-manager',
    name: 'cache-manager 7 (peer)',
    note: '`createCache({ stores: [new Keyv(), createKeyv(url, { namespace })] })`, `wrap(key, fn, ttl)`',
  },
];

interface WorkerRound {
  readonly loaderCalls: number;
  readonly failed: number;
  readonly latencies: number[];
  readonly counters?: Record<string, number>;
}

/** A worker process and its lines of output. */
class Worker {
  readonly child: ChildProcess;
  readonly #lines: AsyncIterator<string>;
  constructor(library: LockLibrary, url: string, namespace: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', WORKER, library, url, namespace], {
      cwd: BENCH_DIR,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.#lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream })[
      Symbol.asyncIterator
    ]();
  }
  async line(): Promise<string> {
    const next = await this.#lines.next();
    if (next.done) throw new Error('a stampede worker ended early');
    return next.value;
  }
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.send('exit');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await once(this.child, 'exit');
    clearTimeout(timer);
  }
}

interface LibraryResult {
  readonly callers: number;
  readonly calls: number[];
  readonly p50: number[];
  readonly p99: number[];
  readonly failed: number[];
  /** Summed counters of ours (lock waits, lock fallbacks, store errors) of the last round. */
  counters: Record<string, number> | undefined;
}

async function stampedeOf(
  library: LockLibrary,
  url: string,
  log: (line: string) => void,
): Promise<LibraryResult[]> {
  const namespace = `bench:locks:${library}:${process.pid}:`;
  const workers = Array.from({ length: PROCESSES }, () => new Worker(library, url, namespace));
  const results: LibraryResult[] = [];
  try {
    for (const worker of workers) if ((await worker.line()) !== 'ready') throw new Error('worker not ready');
    for (const callers of LOADS) {
      const result: LibraryResult = { callers, calls: [], p50: [], p99: [], failed: [], counters: undefined };
      for (let r = 0; r < ROUNDS; r++) {
        log(`cache-locks / stampede / ${library} / ${callers} callers / round ${r + 1}`);
        const line = JSON.stringify({ prefix: `c${callers}-round-${r}`, callers });
        for (const worker of workers) worker.send(line);
        const rounds = await Promise.all(workers.map(async (w) => JSON.parse(await w.line()) as WorkerRound));
        const latencies = Float64Array.from(rounds.flatMap((x) => x.latencies)).sort();
        result.calls.push(rounds.reduce((sum, x) => sum + x.loaderCalls, 0));
        result.failed.push(rounds.reduce((sum, x) => sum + x.failed, 0));
        result.p50.push(percentile(latencies, 50));
        result.p99.push(percentile(latencies, 99));
        const summed: Record<string, number> = {};
        for (const x of rounds) {
          for (const [name, n] of Object.entries(x.counters ?? {})) summed[name] = (summed[name] ?? 0) + n;
        }
        result.counters = Object.keys(summed).length === 0 ? undefined : summed;
      }
      results.push(result);
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  return results;
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;

async function stampede(env: BenchEnv, log: (line: string) => void): Promise<string> {
  const url = env.redisUrl as string;
  const rows = [
    '| contender | callers per key and process | loader calls (median; max) | p50 caller latency | p50 − loader | p99 caller latency | p99 − loader | callers without the value |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  const notes: string[] = [];
  const counters: string[] = [];
  let ours: LibraryResult[] = [];
  for (const library of LIBRARIES) {
    notes.push(`- ${library.name.replaceAll('*', '')}: ${library.note}.`);
    let results: LibraryResult[];
    try {
      results = await stampedeOf(library.id, url, log);
    } catch (error) {
      rows.push(
        `| ${library.name} | | failed: ${error instanceof Error ? error.message : String(error)} | | | | | |`,
      );
      continue;
    }
    if (library.id === 'ours') ours = results;
    for (const result of results) {
      const p50 = median(result.p50);
      const p99 = median(result.p99);
      rows.push(
        `| ${library.name} | ${result.callers} | ${median(result.calls)}; ${Math.max(...result.calls)} | ${ms(p50)} | ${ms(p50 - LOADER_MS)} | ${ms(p99)} | ${ms(p99 - LOADER_MS)} | ${Math.max(...result.failed)} |`,
      );
      if (result.counters !== undefined) {
        const text = Object.entries(result.counters)
          .map(([name, n]) => `${name} ${n}`)
          .join(', ');
        counters.push(`- ${library.name.replaceAll('*', '')}, ${result.callers} callers per key: ${text}.`);
      }
    }
  }
  const verdicts: string[] = [];
  for (const result of ours) {
    const callsMet = result.calls.every((n) => n === KEYS);
    const p99 = median(result.p99);
    verdicts.push(
      `- ${result.callers} callers per key and process: loader calls (target ${KEYS} in all ${PROCESSES} processes together) ${callsMet ? '**met**' : '**NOT met**'} (${result.calls.join(', ')} by round); p99 caller latency (target ≤ loader + 10 ms = ${LOADER_MS + 10} ms) ${p99 <= LOADER_MS + 10 ? '**met**' : '**NOT met**'} (${ms(p99)}; by round ${result.p99.map(ms).join(', ')}).`,
    );
  }
  return [
    `### Stampede across ${PROCESSES} processes sharing one Redis: ${KEYS} cold keys, ${CALLERS_PER_KEY} (and ${LOADS[1]}) callers per key and process, a ${LOADER_MS} ms loader`,
    '',
    `${PROCESSES} child processes per library, each with its own cache over the same Redis, told to start together;`,
    `each issues ${KEYS} × callers getOrSet calls in one synchronous loop over ${KEYS} keys no process holds (keys`,
    `interleaved), each loader resolving after \`setTimeout(${LOADER_MS})\`. A caller's latency runs from its own call to`,
    'its value; p50 and p99 are over all the callers of a round in all processes, loader calls are summed over the',
    `processes. ${ROUNDS} rounds with fresh keys per load (libraries one after the other); the table gives the median`,
    'over rounds (max loader calls and most callers without the value beside them).',
    '',
    ...rows,
    '',
    ...notes,
    '',
    'Counters of ours, summed over the processes, last round (`stats()`): lock waits (loads that found the key',
    'locked by another process), lock fallbacks (loads run without the lock because the lock store failed or',
    'missed its deadline), store errors, callers collapsed onto an in-process load:',
    '',
    ...counters,
    '',
    'Targets (reported, not asserted):',
    '',
    ...verdicts,
  ].join('\n');
}

/** A getOrSet hit on a memory store, with or without a lock store configured. */
function hit(env: BenchEnv, withLocks: boolean): Contender {
  return {
    name: withLocks ? '@cache/cache getOrSet hit, locks configured' : '@cache/cache getOrSet hit, no locks',
    role: withLocks ? 'ours' : 'reference',
    note: withLocks
      ? '`createCache({ store: memoryBackend, locks: redisLocks({ url }) })`: the same entries; a hit never reaches the lock store.'
      : '`createCache({ store: memoryBackend })`, 1,024 warm keys, ~1 KB objects.',
    async setup(): Promise<Prepared> {
      const { createCache } = await import('@cache/cache');
      const { memoryBackend } = await import('@cache/memory');
      const { redisLocks } = await import('@cache/redis');
      const locks = withLocks
        ? redisLocks({ url: env.redisUrl as string, prefix: 'bench:locks:hit:' })
        : undefined;
      const cache: Cache = createCache({
        store: memoryBackend({ maxEntries: HIT_KEYS * 2 }),
        ttlMs: 3_600_000,
        ...(locks === undefined ? {} : { locks }),
      });
      const docs = jsonDocuments(HIT_KEYS);
      const keys = docs.map((_, i) => `hit:${i}`);
      for (let i = 0; i < HIT_KEYS; i++) await cache.getOrSet(keys[i] as string, () => docs[i]);
      const never = (): never => {
        throw new Error('the hit case called the loader');
      };
      const mask = HIT_KEYS - 1;
      return {
        async: true,
        op: (i) => cache.getOrSet(keys[i & mask] as string, never),
        teardown: () => cache.close(),
      };
    },
  };
}

export const cacheLocksSuite: Suite = {
  id: 'cache-locks',
  title: '@cache/cache locks across processes (redisLocks)',
  description:
    'One loader per key across processes sharing Redis. The ops/s table is the hit path with a lock store ' +
    'configured against the same cache without one (target: no cost, a hit takes no lock). The table below it ' +
    'is the stampede across 4 processes, from child processes of its own.',
  requires: ['redis'],
  cases(env: BenchEnv): readonly Case[] {
    return [
      {
        name: 'getOrSet hit, locks configured vs not',
        timing: { kind: 'batched' },
        expect: 'defined',
        target: {
          minRatio: 0.9,
          text: 'a hit with locks configured costs what it costs without (≥ 0.9, noise)',
        },
        contenders: [hit(env, false), hit(env, true)],
      },
    ];
  },
  async extras(env, log) {
    return [await stampede(env, log)];
  },
};
