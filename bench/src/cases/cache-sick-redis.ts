/**
 * The sick-Redis case: a steady load of getOrSet on cold keys over `compose(memory, redis)` while the Redis
 * server is frozen (SIGSTOP) for 10 s. How long do the cold keys take once the breaker has opened, and how many
 * requests waited out the response deadline? Not ops/s: a table of its own.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisServerVersion } from '../harness/environment.js';
import { OwnRedisServer, redisServerInstalled } from '../harness/own-redis.js';
import { formatDuration } from '../harness/report.js';
import { percentile } from '../harness/stats.js';

/** The bench's own server: never a shared test port (6379, 16379, 17000-17005). */
const PORT = 16399;
const LOADER_MS = 20;
/** Lowered from the 2,000 ms default so the run is short; a request that paid it took at least this long. */
const RESPONSE_TIMEOUT_MS = 500;
/** One getOrSet of a new key every this many ms (an open loop: requests do not wait for each other). */
const INTERVAL_MS = 4;
const HEALTHY_MS = 2000;
const FROZEN_MS = 10_000;
/** Long enough after SIGCONT for the breaker's next probe (its open time doubles after a failed probe). */
const AFTER_MS = 8000;

type Phase = 'healthy' | 'frozen' | 'thawed';

interface Request {
  readonly phase: Phase;
  /** When it was issued, in ms since the freeze (negative before). */
  readonly at: number;
  latencyMs: number;
  ok: boolean;
}

/** A store error the cache reported, with every error code found on it and its causes. */
interface StoreError {
  readonly at: number;
  readonly operation: string;
  readonly codes: readonly string[];
}

/** The codes of `error` and its causes (`cause`, and the `errors` of an aggregate), outermost first. */
function codes(error: unknown, depth = 0, found: string[] = []): string[] {
  if (depth > 6 || error === null || typeof error !== 'object') return found;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && !found.includes(code)) found.push(code);
  codes(cause, depth + 1, found);
  if (Array.isArray(errors)) for (const inner of errors) codes(inner, depth + 1, found);
  if (Array.isArray(cause)) for (const inner of cause) codes(inner, depth + 1, found);
  return found;
}

function ms(value: number): string {
  return Number.isFinite(value) ? formatDuration(value * 1e6) : '–';
}

function p(requests: readonly Request[], q: number): number {
  return percentile(
    requests.map((r) => r.latencyMs).sort((a, b) => a - b),
    q,
  );
}

/** Runs the freeze against a server of its own and renders the result. */
export async function sickRedis(log: (line: string) => void): Promise<string> {
  const title = `### Sick Redis: cold getOrSet over memory + Redis, Redis frozen (SIGSTOP) for ${FROZEN_MS / 1000} s`;
  if (!redisServerInstalled()) return `${title}\n\n**Skipped:** redis-server is not on the PATH.`;
  log('cache / sick Redis');
  const load = os.loadavg()[0] ?? Number.NaN;
  const server = await OwnRedisServer.start(PORT);
  try {
    const version = await redisServerVersion(server.url);
    return await run(server, version, load, log);
  } finally {
    await server.stop();
  }
}

async function run(server: OwnRedisServer, version: string, load: number, log: (line: string) => void) {
  const { createCache } = await import('@cache/cache');
  const { BREAKER_DEFAULTS, compose } = await import('@cache/core');
  const { memoryBackend } = await import('@cache/memory');
  const { RedisBackend } = await import('@cache/redis');
  const redis = new RedisBackend({
    url: server.url,
    namespace: `bench:cache:sick:${process.pid}:`,
    responseTimeoutMs: RESPONSE_TIMEOUT_MS,
  });
  let frozenAt = Number.NaN;
  const since = () => performance.now() - frozenAt;
  const storeErrors: StoreError[] = [];
  const transitions: Transition[] = [];
  redis.circuit?.subscribe((change) => {
    transitions.push({ at: since(), from: change.from, to: change.to, reason: change.reason });
  });
  const store = compose(memoryBackend({ maxEntries: 100_000 }), redis, {
    onError: (event) => {
      storeErrors.push({
        at: since(),
        operation: `${event.operation}, swallowed by compose (${event.layer})`,
        codes: codes(event.error),
      });
    },
  });
  const cache = createCache({
    store,
    ttlMs: 60_000,
    onEvent: (event) => {
      if (event.type === 'store-error') {
        storeErrors.push({ at: since(), operation: event.operation, codes: codes(event.error) });
      }
    },
  });
  let loaderCalls = 0;
  const loader = () =>
    new Promise<string>((resolve) => {
      loaderCalls++;
      setTimeout(() => resolve('value'), LOADER_MS);
    });
  const requests: Request[] = [];
  const pending = new Set<Promise<void>>();
  let phase: Phase = 'healthy';
  let issued = 0;
  const issue = (): void => {
    const request: Request = { phase, at: since(), latencyMs: Number.NaN, ok: false };
    requests.push(request);
    const start = performance.now();
    const done = cache.getOrSet(`cold:${issued++}`, loader).then(
      (value) => {
        request.ok = value === 'value';
      },
      () => undefined,
    );
    const tracked = done.then(() => {
      request.latencyMs = performance.now() - start;
      pending.delete(tracked);
    });
    pending.add(tracked);
  };
  try {
    await cache.getOrSet('connect', () => 'connected');
    const started = performance.now();
    frozenAt = started + HEALTHY_MS;
    // An open loop: the number of requests issued follows the clock, whatever the answers do.
    const timer = setInterval(() => {
      const due = Math.floor((performance.now() - started) / INTERVAL_MS);
      while (issued < due) issue();
    }, 1);
    try {
      await sleep(HEALTHY_MS);
      phase = 'frozen';
      server.freeze();
      log(`  Redis frozen for ${FROZEN_MS / 1000} s`);
      await sleep(FROZEN_MS);
    } finally {
      server.thaw();
    }
    phase = 'thawed';
    log('  Redis thawed');
    await sleep(AFTER_MS);
    clearInterval(timer);
    await Promise.race([Promise.all(pending), sleep(10_000)]);
  } finally {
    server.thaw();
    await cache.close().catch(() => undefined);
  }
  const counters = redis.circuit?.counters;
  return render({
    requests,
    storeErrors,
    transitions,
    breaker:
      counters === undefined
        ? 'none (`RedisBackend.circuit` is undefined)'
        : `opened ${counters.opened} time(s), refused ${counters.rejectedOpen} calls with \`CIRCUIT_OPEN\` and ` +
          `${counters.rejectedOverloaded} with \`OVERLOADED\`, let ${counters.calls} through, counted ${counters.failures} failures`,
    defaults: `failureThreshold ${BREAKER_DEFAULTS.failureThreshold}, openMs ${BREAKER_DEFAULTS.openMs}, maxOpenMs ${BREAKER_DEFAULTS.maxOpenMs}, halfOpenProbes ${BREAKER_DEFAULTS.halfOpenProbes}, maxInFlight ${BREAKER_DEFAULTS.maxInFlight}`,
    loaderCalls,
    version,
    load,
    port: server.port,
  });
}

/** A state change of the Redis backend's circuit breaker. */
interface Transition {
  readonly at: number;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

interface Outcome {
  readonly requests: readonly Request[];
  readonly storeErrors: readonly StoreError[];
  readonly transitions: readonly Transition[];
  /** The breaker's counters at the end. */
  readonly breaker: string;
  /** The breaker's default options. */
  readonly defaults: string;
  readonly loaderCalls: number;
  readonly version: string;
  readonly load: number;
  readonly port: number;
}

/** When the breaker closed again after SIGCONT, i.e. when cold keys were written to Redis again. */
function closedLine(transitions: readonly Transition[]): string {
  const closed = transitions.find((t) => t.to === 'closed' && t.at >= FROZEN_MS);
  return closed === undefined
    ? `It had not closed again ${AFTER_MS / 1000} s after SIGCONT.`
    : `It closed again ${((closed.at - FROZEN_MS) / 1000).toFixed(2)} s after SIGCONT (until then every call to Redis was refused at once, so cold keys went to the loader and were not written to Redis).`;
}

function render(outcome: Outcome): string {
  const { requests, storeErrors } = outcome;
  const finished = requests.filter((r) => Number.isFinite(r.latencyMs));
  const frozen = finished.filter((r) => r.phase === 'frozen');
  // When the breaker opened: its own state change, or else the first call refused with CIRCUIT_OPEN.
  const opened =
    outcome.transitions.find((t) => t.to === 'open' && t.at >= 0) ??
    storeErrors.find((e) => e.codes.includes('CIRCUIT_OPEN'));
  const firstDeadline = RESPONSE_TIMEOUT_MS;
  const afterOpen = opened
    ? frozen.filter((r) => r.at >= opened.at)
    : frozen.filter((r) => r.at >= firstDeadline);
  const target = LOADER_MS + 5;
  const p99AfterOpen = p(afterOpen, 99);
  const paid = (rs: readonly Request[]) => rs.filter((r) => r.latencyMs >= RESPONSE_TIMEOUT_MS).length;

  const row = (label: string, rs: readonly Request[]) =>
    `| ${label} | ${rs.length} | ${rs.filter((r) => r.ok).length} | ${ms(p(rs, 50))} | ${ms(p(rs, 99))} | ${ms(Math.max(...rs.map((r) => r.latencyMs)))} | ${paid(rs)} |`;
  const rows = [
    '| requests issued | count | got the value | p50 | p99 | max | paid a deadline (≥ ' +
      `${RESPONSE_TIMEOUT_MS} ms) |`,
    '|---|--:|--:|--:|--:|--:|--:|',
    row(
      'healthy (before the freeze)',
      finished.filter((r) => r.phase === 'healthy'),
    ),
    row('frozen, all', frozen),
    row(opened ? 'frozen, after the breaker opened' : 'frozen, after the first deadline', afterOpen),
    row(
      'after SIGCONT',
      finished.filter((r) => r.phase === 'thawed'),
    ),
  ];

  // Store errors by code, in the order they first appeared: the breaker's transitions show as a change of code.
  const byCode = new Map<string, { first: number; last: number; count: number }>();
  for (const e of storeErrors) {
    const code = `${e.codes.includes('CIRCUIT_OPEN') ? 'CIRCUIT_OPEN' : e.codes.join(' ← ') || 'no code'}\` (${e.operation}`;
    const entry = byCode.get(code) ?? { first: e.at, last: e.at, count: 0 };
    entry.last = e.at;
    entry.count++;
    byCode.set(code, entry);
  }
  const seconds = (at: number) => `${at >= 0 ? '+' : ''}${(at / 1000).toFixed(2)} s`;
  const errorLines = [...byCode].map(
    ([code, e]) => `- \`${code}): ${e.count} from ${seconds(e.first)} to ${seconds(e.last)}`,
  );
  const verdict = Number.isFinite(p99AfterOpen)
    ? `${ms(p99AfterOpen)}, **${p99AfterOpen <= target ? 'met' : 'NOT met'}**`
    : 'not measured';

  return [
    `### Sick Redis: cold getOrSet over memory + Redis, Redis frozen (SIGSTOP) for ${FROZEN_MS / 1000} s`,
    '',
    `_${outcome.version} started by the bench on 127.0.0.1:${outcome.port} (no persistence) · load average ` +
      `${outcome.load.toFixed(2)} at start_`,
    '',
    '`createCache({ store: compose(memoryBackend({ maxEntries: 100000 }), new RedisBackend({ url, namespace,',
    `responseTimeoutMs: ${RESPONSE_TIMEOUT_MS} })), ttlMs: 60000 })\`, RedisBackend's default breaker`,
    `(${outcome.defaults}). **responseTimeoutMs is lowered from its 2,000 ms default to ${RESPONSE_TIMEOUT_MS} ms** for this run.`,
    `An open loop issues one getOrSet of a never-seen key every ${INTERVAL_MS} ms (a ${LOADER_MS} ms loader):`,
    `${HEALTHY_MS / 1000} s healthy, then SIGSTOP for ${FROZEN_MS / 1000} s, then SIGCONT and ${AFTER_MS / 1000} s more.`,
    'A request is timed from its call to its answer and counted in the phase it was issued in. "Paid a deadline":',
    'took at least the response timeout; every request issued before the first timeout fired (nothing had failed',
    `yet, so the breaker was still closed) pays one. Loader calls: ${outcome.loaderCalls} for ${requests.length} distinct keys.`,
    '',
    ...rows,
    '',
    `Target: p99 of cold keys issued after the breaker opened ≤ loader time + 5 ms (${target} ms): ${verdict}` +
      (opened
        ? ` (breaker seen open from ${seconds(opened.at)} after SIGSTOP).`
        : '. **No breaker was seen** (no state change to open, no store error with `CIRCUIT_OPEN`): the row is over the requests issued ' +
          `after the first deadline could have passed (+${(firstDeadline / 1000).toFixed(2)} s).`),
    '',
    `Breaker state changes (\`RedisBackend.circuit.subscribe\`), times since SIGSTOP:`,
    '',
    ...(outcome.transitions.length > 0
      ? outcome.transitions.map((t) => `- ${seconds(t.at)}: ${t.from} → ${t.to} (${t.reason})`)
      : ['- none']),
    '',
    `Breaker counters at the end: ${outcome.breaker}. ${closedLine(outcome.transitions)}`,
    '',
    'Store errors reported (by the cache, or by compose through its `onError` for an L2 failure it did not throw),',
    "by error code (outermost ← causes) and operation, times since SIGSTOP; the breaker's",
    'state shows too (`TIMEOUT` while calls wait out the deadline, `CIRCUIT_OPEN` once it',
    'refuses them at once):',
    '',
    ...(errorLines.length > 0 ? errorLines : ['- none']),
  ].join('\n');
}
