/**
 * The http suite: `@cache/http` under load. Two parts:
 * - cases (the harness's ops/s): a hit through undici's cache interceptor, `fetch` and `request`, with our
 *   CacheStore against undici's own MemoryCacheStore;
 * - extras (autocannon against a server in a child process): a cached GET through our server middleware against
 *   a cache written by hand for the route (reference) and against the uncached 10 ms handler.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatDuration, formatRate } from '../harness/report.js';
import { median } from '../harness/stats.js';
import type { BenchEnv, Case, Contender, Prepared, Suite, Target } from '../harness/types.js';

const BODY_BYTES = 1024;
const IN_FLIGHT = [1, 32] as const;
const STORE_TARGET: Target = {
  minRatio: 0.9,
  text: "a hit with our store runs at least 0.9x undici's MemoryCacheStore",
};
const MIDDLEWARE_TARGET = {
  minRatio: 0.8,
  text: 'a cached GET through our middleware runs at least 0.8x the by-hand cache',
};

/** autocannon settings of the server part. */
const LOAD = { connections: 32, slotSeconds: 2, warmupSeconds: 1, rounds: 5 } as const;

// ── undici CacheStore hits (harness cases) ─────────────────────────────────────────────────────────────────

interface Origin {
  readonly url: string;
  readonly server: Server;
}

async function startOrigin(): Promise<Origin> {
  const body = Buffer.alloc(BODY_BYTES, 'a');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=3600' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/doc`, server };
}

type Client = 'fetch' | 'request';
type StoreKind = 'undici-memory' | 'ours-memory' | 'ours-redis';

/**
 * One contender: its own origin, store and agent, the URL fetched once so every timed op is a hit. The op is
 * written out per client so the two never share a call site's type feedback.
 */
function storeContender(client: Client, kind: StoreKind, env: BenchEnv): Contender {
  const names: Record<StoreKind, string> = {
    'undici-memory': "undici's MemoryCacheStore",
    'ours-memory': '@cache/http undiciCacheStore(memoryBackend)',
    'ours-redis': '@cache/http undiciCacheStore(compose(memory, redis))',
  };
  return {
    name: names[kind],
    role: kind === 'undici-memory' ? 'reference' : 'ours',
    ...(kind === 'ours-redis'
      ? { note: 'the hit is answered by the memory tier; Redis holds the entry too.' }
      : {}),
    async setup(): Promise<Prepared> {
      const undici = await import('undici');
      const origin = await startOrigin();
      let store:
        | import('@cache/http').UndiciCacheStore
        | InstanceType<typeof undici.cacheStores.MemoryCacheStore>;
      let close = async (): Promise<void> => undefined;
      if (kind === 'undici-memory') {
        store = new undici.cacheStores.MemoryCacheStore({ maxCount: 10_000 });
      } else {
        const { undiciCacheStore } = await import('@cache/http');
        const { memoryBackend } = await import('@cache/memory');
        const memory = memoryBackend({ maxEntries: 10_000 });
        if (kind === 'ours-redis') {
          const { compose } = await import('@cache/core');
          const { RedisBackend } = await import('@cache/redis');
          const redis = new RedisBackend({
            url: env.redisUrl as string,
            namespace: `bench:http:${process.pid}:`,
          });
          store = undiciCacheStore({ backend: compose(memory, redis) });
          close = async () => {
            await redis.clear();
            await redis.close();
          };
        } else {
          store = undiciCacheStore({ backend: memory });
        }
      }
      const agent = new undici.Agent().compose(undici.interceptors.cache({ store, type: 'shared' }));
      const url = origin.url;
      const first = await undici.request(url, { dispatcher: agent });
      await first.body.arrayBuffer();
      if ('flush' in store) await store.flush();
      const op =
        client === 'fetch'
          ? () => undici.fetch(url, { dispatcher: agent }).then((res) => res.arrayBuffer())
          : () => undici.request(url, { dispatcher: agent }).then((res) => res.body.arrayBuffer());
      const check = await op();
      if (check.byteLength !== BODY_BYTES)
        throw new Error(`expected ${BODY_BYTES} bytes, got ${check.byteLength}`);
      return {
        op,
        async: true,
        async teardown() {
          await agent.close();
          await close();
          origin.server.closeAllConnections();
          await new Promise((resolve) => origin.server.close(resolve));
        },
      };
    },
  };
}

function storeCase(client: Client, env: BenchEnv): Case {
  const kinds: StoreKind[] = ['undici-memory', 'ours-memory'];
  if (env.redisUrl !== undefined) kinds.push('ours-redis');
  return {
    name: `undici ${client} hit (${BODY_BYTES} B body)`,
    timing: { kind: 'concurrent', inFlight: IN_FLIGHT },
    expect: 'defined',
    target: STORE_TARGET,
    contenders: kinds.map((kind) => storeContender(client, kind, env)),
  };
}

/**
 * The store alone: `store.get(key)` of a stored 1 KB response, as the interceptor calls it on every request
 * (it then streams the body out). Batched: the op is synchronous for every contender here.
 */
function storeGetContender(kind: StoreKind, env: BenchEnv): Contender {
  const names: Record<StoreKind, string> = {
    'undici-memory': "undici's MemoryCacheStore get",
    'ours-memory': '@cache/http undiciCacheStore(memoryBackend) get',
    'ours-redis': '@cache/http undiciCacheStore(compose(memory, redis)) get',
  };
  return {
    name: names[kind],
    role: kind === 'undici-memory' ? 'reference' : 'ours',
    async setup(): Promise<Prepared> {
      const undici = await import('undici');
      const now = Date.now();
      const key = {
        origin: 'http://127.0.0.1:8080',
        method: 'GET',
        path: '/doc?page=1',
        headers: { accept: '*/*' },
      };
      const value = {
        statusCode: 200,
        statusMessage: 'OK',
        headers: { 'content-type': 'text/plain', 'cache-control': 'public, max-age=3600' },
        cacheControlDirectives: { public: true as const, 'max-age': 3600 },
        cachedAt: now,
        staleAt: now + 3_600_000,
        deleteAt: now + 3_600_000,
      };
      let close = async (): Promise<void> => undefined;
      let store:
        | import('@cache/http').UndiciCacheStore
        | InstanceType<typeof undici.cacheStores.MemoryCacheStore>;
      if (kind === 'undici-memory') {
        store = new undici.cacheStores.MemoryCacheStore({ maxCount: 10_000 });
      } else {
        const { undiciCacheStore } = await import('@cache/http');
        const { memoryBackend } = await import('@cache/memory');
        const memory = memoryBackend({ maxEntries: 10_000 });
        if (kind === 'ours-redis') {
          const { compose } = await import('@cache/core');
          const { RedisBackend } = await import('@cache/redis');
          const redis = new RedisBackend({
            url: env.redisUrl as string,
            namespace: `bench:http-get:${process.pid}:`,
          });
          store = undiciCacheStore({ backend: compose(memory, redis) });
          close = async () => {
            await redis.clear();
            await redis.close();
          };
        } else {
          store = undiciCacheStore({ backend: memory });
        }
      }
      const stream = store.createWriteStream(key, value);
      await new Promise<void>((resolve) => stream?.end(Buffer.alloc(BODY_BYTES, 'a'), () => resolve()));
      if ('flush' in store) await store.flush();
      const hit = store.get(key);
      if (hit === undefined || 'then' in hit) throw new Error('expected a synchronous hit');
      return { op: () => store.get(key), async: false, teardown: close };
    },
  };
}

function storeGetCase(env: BenchEnv): Case {
  const kinds: StoreKind[] = ['undici-memory', 'ours-memory'];
  if (env.redisUrl !== undefined) kinds.push('ours-redis');
  return {
    name: `store.get hit (${BODY_BYTES} B body)`,
    timing: { kind: 'batched' },
    expect: 'defined',
    target: STORE_TARGET,
    contenders: kinds.map((kind) => storeGetContender(kind, env)),
  };
}

// ── server middleware under autocannon (extras) ────────────────────────────────────────────────────────────

interface LoadContender {
  readonly name: string;
  readonly role: 'reference' | 'ours' | 'variant';
  readonly kind: string;
  /** The kind the target compares this one with, when not the reference (the by-hand cache in the same framework). */
  readonly versus?: string;
}

interface RunningServer {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startServer(kind: string, redisUrl: string | undefined): Promise<RunningServer> {
  const script = fileURLToPath(new URL('./http-servers.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, kind, ...(redisUrl ? [redisUrl] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server ${kind} exited with ${code}`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { url: `http://127.0.0.1:${port}/item/1`, child };
}

async function stopServer(server: RunningServer): Promise<void> {
  server.child.stdin?.end();
  if (server.child.exitCode === null) await new Promise((resolve) => server.child.once('exit', resolve));
}

interface LoadResult {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly bad: number;
}

async function load(url: string, seconds: number): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({ url, connections: LOAD.connections, duration: seconds });
  return {
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

async function serverLoad(env: BenchEnv, log: (line: string) => void): Promise<string> {
  const contenders: LoadContender[] = [
    { name: 'by hand: Map lookup, stored headers and body', role: 'reference', kind: 'by-hand' },
    { name: '@cache/http middleware (memory)', role: 'ours', kind: 'middleware-memory' },
  ];
  if (env.redisUrl !== undefined) {
    contenders.push({
      name: '@cache/http middleware (memory + Redis)',
      role: 'ours',
      kind: 'middleware-redis',
    });
  }
  contenders.push(
    { name: 'Express 5: the by-hand cache as the route handler', role: 'variant', kind: 'express-by-hand' },
    {
      name: '@cache/http middleware in Express 5 (memory)',
      role: 'ours',
      kind: 'express-middleware',
      versus: 'express-by-hand',
    },
    { name: 'uncached handler (10 ms)', role: 'variant', kind: 'uncached' },
  );
  const servers = new Map<LoadContender, RunningServer>();
  const problems = new Map<LoadContender, string>();
  const rounds = new Map<LoadContender, LoadResult[]>(contenders.map((c) => [c, []]));
  try {
    for (const contender of contenders) {
      try {
        const server = await startServer(contender.kind, env.redisUrl);
        servers.set(contender, server);
        log(`http / load: warming ${contender.name}`);
        await load(server.url, LOAD.warmupSeconds);
      } catch (error) {
        problems.set(contender, `did not start: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (let r = 0; r < LOAD.rounds; r++) {
      for (let j = 0; j < contenders.length; j++) {
        const contender = contenders[(j + r) % contenders.length] as LoadContender;
        const server = servers.get(contender);
        if (server === undefined) continue;
        log(`http / load: round ${r + 1}, ${contender.name}`);
        rounds.get(contender)?.push(await load(server.url, LOAD.slotSeconds));
      }
    }
  } finally {
    for (const server of servers.values()) await stopServer(server);
  }

  const reference = contenders.find((c) => c.role === 'reference') as LoadContender;
  const referenceRate = median((rounds.get(reference) ?? []).map((r) => r.reqPerSec));
  const rows = [
    '| contender | req/s (median) | rounds ± | p50 latency | p99 latency | non-2xx + errors | req/s ÷ reference |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  const verdicts: string[] = [];
  for (const contender of contenders) {
    const name =
      contender.role === 'ours' ? `**${contender.name}** (ours)` : `${contender.name} (${contender.role})`;
    const measured = rounds.get(contender) ?? [];
    const problem = problems.get(contender);
    if (problem !== undefined || measured.length === 0) {
      rows.push(`| ${name} | ${problem ?? 'not measured'} | | | | | |`);
      if (contender.role === 'ours')
        verdicts.push(`${contender.name}: **NOT measured** (${problem ?? 'no rounds'})`);
      continue;
    }
    const rates = measured.map((m) => m.reqPerSec);
    const rate = median(rates);
    const spread = (Math.max(...rates) - Math.min(...rates)) / 2 / rate;
    const ratio = rate / referenceRate;
    rows.push(
      `| ${name} | ${formatRate(rate)} | ±${(spread * 100).toFixed(0)}% | ${formatDuration(median(measured.map((m) => m.p50Ms)) * 1e6)} | ` +
        `${formatDuration(median(measured.map((m) => m.p99Ms)) * 1e6)} | ${Math.max(...measured.map((m) => m.bad))} | ${ratio.toFixed(2)}x |`,
    );
    if (contender.role === 'ours') {
      const versus = contenders.find((c) => c.kind === contender.versus);
      const base = versus === undefined ? undefined : rounds.get(versus);
      const against =
        base === undefined || base.length === 0 ? ratio : rate / median(base.map((r) => r.reqPerSec));
      const met = against >= MIDDLEWARE_TARGET.minRatio;
      const label = versus === undefined ? '' : ` of ${versus.name.split(':')[0]}'s by-hand cache`;
      verdicts.push(`${contender.name}: ${against.toFixed(2)}x${label}, ${met ? '**met**' : '**NOT met**'}`);
    }
  }
  return [
    `### Server middleware under load (autocannon, ${LOAD.connections} connections)`,
    '',
    'Each server runs in a child process of its own (node:http, one route, `GET /item/1`, a 1 KB JSON body whose',
    'handler waits 10 ms and sends `Cache-Control: public, max-age=3600`); autocannon runs in the bench process.',
    `Every server is warmed for ${LOAD.warmupSeconds} s (the first request fills its cache), then ${LOAD.rounds} rounds`,
    `of ${LOAD.slotSeconds} s per server, servers interleaved with the first rotating each round; the table gives`,
    'medians over rounds. The reference is a cache written by hand for this route: a `Map` lookup, then',
    '`writeHead` and `end` with the stored headers and body (no HTTP caching semantics at all). The Express 5 rows',
    'mount the same by-hand cache, and our middleware, on an Express route (`app.get`); the target of our Express',
    'row is counted against the by-hand cache in Express.',
    'Server and load generator share the two cores of this machine, which other work was also using.',
    '',
    ...rows,
    '',
    `Target: ${MIDDLEWARE_TARGET.text}: ${verdicts.join('; ')}.`,
  ].join('\n');
}

export const httpSuite: Suite = {
  id: 'http',
  title: 'HTTP caching: undici CacheStore hits, server middleware under load',
  description:
    'undici 7 `fetch` and `request` through `interceptors.cache({ store, type: "shared" })` on a URL already ' +
    `stored (a ${BODY_BYTES} B body, \`max-age=3600\`), each contender with its own origin and agent: our ` +
    "`undiciCacheStore` over `memoryBackend` (and over `compose(memory, redis)` when REDIS_URL is set) against undici's " +
    "own `MemoryCacheStore` (reference); and the store's `get` alone, as the interceptor calls it on each " +
    'request. Then autocannon against node:http servers (see the table below the cases).',
  requires: ['redis'],
  cases: (env) => [storeGetCase(env), storeCase('fetch', env), storeCase('request', env)],
  extras: async (env, log) => [await serverLoad(env, log)],
};
