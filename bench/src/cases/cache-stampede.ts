/**
 * The stampede case: many callers ask for the same cold keys at once; how many loader calls run, and how long
 * the callers wait compared with one loader call. Not ops/s: a table of its own.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonDocuments } from '../data/documents.js';
import { formatDuration } from '../harness/report.js';
import { median, percentile } from '../harness/stats.js';
import { nowNs } from '../harness/timing-loops.js';
import { type GetOrSetClient, type GetOrSetLibrary, ours, PEERS } from './cache-peers.js';

const CALLERS = 1000;
const KEYS = 100;
const LOADER_MS = 20;
const ROUNDS = 5;
const TTL_MS = 3_600_000;

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

/** What one round of one library gave. */
interface Round {
  readonly loaderCalls: number;
  /** Loads the library itself counted, when it counts them. */
  readonly counted: number | undefined;
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** Callers that got no value (undefined or an error). */
  readonly failed: number;
}

/** 1,000 callers over 100 fresh keys, all issued in one synchronous loop, each timed from its own call. */
async function round(client: GetOrSetClient, prefix: string): Promise<Round> {
  const docs = jsonDocuments(KEYS);
  let loaderCalls = 0;
  const loaders = docs.map(
    (doc) => () =>
      new Promise((resolve) => {
        loaderCalls++;
        setTimeout(() => resolve(doc), LOADER_MS);
      }),
  );
  const keys = docs.map((_, k) => `${prefix}:${k}`);
  const latencies = new Float64Array(CALLERS);
  const countedBefore = client.loads?.();
  let failed = 0;
  gc?.();
  const calls: Promise<void>[] = new Array(CALLERS);
  for (let c = 0; c < CALLERS; c++) {
    const k = c % KEYS;
    const start = nowNs();
    calls[c] = client.getOrSet(keys[k] as string, loaders[k] as () => unknown).then(
      (value) => {
        latencies[c] = nowNs() - start;
        if (value !== docs[k]) failed++;
      },
      () => {
        latencies[c] = nowNs() - start;
        failed++;
      },
    );
  }
  await Promise.all(calls);
  latencies.sort();
  const countedAfter = client.loads?.();
  return {
    loaderCalls,
    counted:
      countedBefore === undefined || countedAfter === undefined ? undefined : countedAfter - countedBefore,
    p50Ns: percentile(latencies, 50),
    p99Ns: percentile(latencies, 99),
    failed,
  };
}

function ratio(ns: number): string {
  return `${(ns / 1e6 / LOADER_MS).toFixed(2)}x`;
}

/** Runs the rounds, libraries interleaved (the first one rotating), and renders the table. */
export async function stampede(log: (line: string) => void): Promise<string> {
  const libraries: GetOrSetLibrary[] = [ours(), ...PEERS];
  const clients = new Map<GetOrSetLibrary, GetOrSetClient>();
  const problems = new Map<GetOrSetLibrary, string>();
  const rounds = new Map<GetOrSetLibrary, Round[]>(libraries.map((l) => [l, []]));
  log('cache / stampede');
  try {
    for (const library of libraries) {
      try {
        clients.set(library, await library.create({ maxEntries: 100_000, ttlMs: TTL_MS }));
      } catch (error) {
        problems.set(library, `did not set up: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (let j = 0; j < libraries.length; j++) {
        const library = libraries[(j + r) % libraries.length] as GetOrSetLibrary;
        const client = clients.get(library);
        if (client === undefined || problems.has(library)) continue;
        try {
          rounds.get(library)?.push(await round(client, `stampede:${r}`));
        } catch (error) {
          problems.set(library, `failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        await sleep(LOADER_MS); // writes after the loads settle before the next library starts
      }
    }
  } finally {
    for (const client of clients.values()) await client.close().catch(() => undefined);
  }

  const rows = [
    '| contender | loader calls (median; max) | p50 caller latency | p50 ÷ loader time | p99 caller latency | p99 ÷ loader time | callers without the value |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const library of libraries) {
    const name = library.role === 'ours' ? `**${library.name}** (ours)` : `${library.name} (peer)`;
    const problem = problems.get(library);
    const measured = rounds.get(library) ?? [];
    if (problem !== undefined || measured.length === 0) {
      rows.push(`| ${name} | ${problem ?? 'not measured'} | | | | | |`);
      continue;
    }
    const calls = median(measured.map((m) => m.loaderCalls));
    const maxCalls = Math.max(...measured.map((m) => m.loaderCalls));
    const p50 = median(measured.map((m) => m.p50Ns));
    const p99 = median(measured.map((m) => m.p99Ns));
    const failed = Math.max(...measured.map((m) => m.failed));
    const callsCell = library.role === 'ours' ? `**${calls}**; ${maxCalls}` : `${calls}; ${maxCalls}`;
    rows.push(
      `| ${name} | ${callsCell} | ${formatDuration(p50)} | ${ratio(p50)} | ${formatDuration(p99)} | ${ratio(p99)} | ${failed} |`,
    );
  }
  const ourRounds = rounds.get(libraries[0] as GetOrSetLibrary) ?? [];
  const ourCalls = ourRounds.map((m) => m.loaderCalls);
  const counted = ourRounds.map((m) => m.counted);
  const verdict =
    ourCalls.length > 0 && ourCalls.every((n) => n === KEYS)
      ? `**met** in every round (${ourCalls.join(', ')}; \`stats().loads\` counted ${counted.join(', ')})`
      : `**NOT met**: ${ourCalls.join(', ')} loader calls by round (\`stats().loads\`: ${counted.join(', ')})`;
  return [
    `### Stampede: ${CALLERS.toLocaleString('en-US')} callers, ${KEYS} cold keys, a ${LOADER_MS} ms loader`,
    '',
    `${CALLERS.toLocaleString('en-US')} getOrSet calls issued in one synchronous loop over ${KEYS} keys no library`,
    `holds (${CALLERS / KEYS} callers per key, keys interleaved), each with a loader that resolves after`,
    `\`setTimeout(${LOADER_MS})\`. A caller's latency runs from its own call to its value. ${ROUNDS} rounds with`,
    'fresh keys, libraries interleaved (the first rotating each round), a full GC before each; the table gives',
    'the median over rounds of the loader calls, the p50 and the p99 (the max loader calls and the most callers',
    'without the value in any round beside them). Same configurations as the hit case, larger capacity.',
    '',
    ...rows,
    '',
    `Target: ours calls the loader exactly once per key (${KEYS}): ${verdict}.`,
  ].join('\n');
}
