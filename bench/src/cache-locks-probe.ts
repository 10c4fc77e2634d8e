/**
 * Where the time of the cross-process stampede goes (cache-locks.ts), phase by phase: 4 processes with
 * `createCache({ store: compose(memory, redis), locks: redisLocks })` over one Redis, 100 cold keys x `callers`
 * per process, a 20 ms loader; each lock step and store call is timed (wall clock shared by the processes) and the
 * parent prints the median and p99 of each phase. A measuring tool, not a case of the suite:
 *   node --import tsx src/cache-locks-probe.ts [callers=25] [rounds=2]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CacheBackend, CacheKey, LockStore } from '@cache/core';

const KEYS = 100;
const LOADER_MS = 20;
const PROCESSES = 4;
const clock = (): number => performance.timeOrigin + performance.now();

/** Per key, in one process: the instants of its steps (absent when the step did not happen). */
type Marks = Record<string, number>;

async function child(url: string, namespace: string): Promise<void> {
  const { createCache } = await import('@cache/cache');
  const { compose } = await import('@cache/core');
  const { memoryBackend } = await import('@cache/memory');
  const { RedisBackend, redisLocks } = await import('@cache/redis');
  const redis = new RedisBackend({ url, namespace });
  const locks = redisLocks({ url, backend: redis });
  let marks = new Map<string, Marks>();
  const mark = (key: CacheKey | string, step: string, at = clock()): void => {
    const name = typeof key === 'string' ? key : key.canonical;
    let m = marks.get(name);
    if (m === undefined) {
      m = {};
      marks.set(name, m);
    }
    // Repeated steps: numbered (acquire, acquire#2, ...).
    let label = step;
    for (let i = 2; m[label] !== undefined; i++) label = `${step}#${i}`;
    m[label] = at;
  };
  const store = compose(memoryBackend({ maxEntries: 100_000 }), redis);
  const probedStore = new Proxy(store, {
    get(target, p) {
      const own = Reflect.get(target, p, target);
      if (p === 'get') {
        return (key: CacheKey, ...rest: unknown[]) => {
          mark(key, 'get>');
          const r = (own as (...a: unknown[]) => unknown).call(target, key, ...rest);
          Promise.resolve(r).then(
            (v) => mark(key, v === undefined ? 'get<miss' : 'get<hit'),
            () => mark(key, 'get<err'),
          );
          return r;
        };
      }
      if (p === 'set') {
        return (key: CacheKey, ...rest: unknown[]) => {
          mark(key, 'set>');
          const r = (own as (...a: unknown[]) => unknown).call(target, key, ...rest);
          Promise.resolve(r).then(
            () => mark(key, 'set<'),
            () => mark(key, 'set<err'),
          );
          return r;
        };
      }
      return typeof own === 'function' ? own.bind(target) : own;
    },
  }) as CacheBackend;
  const probedLocks: LockStore = {
    label: locks.label,
    leaseMs: locks.leaseMs,
    pollMs: locks.pollMs,
    acquire: (key, options) => {
      mark(key, 'acquire>');
      const r = locks.acquire(key, options);
      r.then(
        (x) => mark(key, x.acquired ? 'acquire<taken' : 'acquire<held'),
        () => mark(key, 'acquire<err'),
      );
      return r;
    },
    renew: (lease) => locks.renew(lease),
    release: (lease) => {
      mark(lease.key, 'release>');
      const r = locks.release(lease);
      r.then(
        () => mark(lease.key, 'release<'),
        () => mark(lease.key, 'release<err'),
      );
      return r;
    },
    waitForRelease: (key, options) => {
      const start = clock();
      mark(key, 'wait>', start);
      return locks.waitForRelease(key, options).then(() => {
        const end = clock();
        mark(key, end - start >= options.timeoutMs - 1 ? 'wait<timeout' : 'wait<notice', end);
      });
    },
    close: () => locks.close(),
  };
  const cache = createCache({ store: probedStore, ttlMs: 3_600_000, locks: probedLocks });
  await cache.getOrSet('warm-up', () => 'warm');
  await locks.waitForRelease(cache.key('warm-up'), { timeoutMs: 1 });
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'exit') break;
    const { prefix, callers } = JSON.parse(line) as { prefix: string; callers: number };
    marks = new Map();
    const t0 = clock();
    const calls: Promise<void>[] = [];
    for (let c = 0; c < KEYS * callers; c++) {
      const name = `${prefix}:${c % KEYS}`;
      const canonical = cache.key(name).canonical;
      calls.push(
        cache
          .getOrSet(name, async () => {
            mark(canonical, 'load>');
            await new Promise((r) => setTimeout(r, LOADER_MS));
            mark(canonical, 'load<');
            return { name };
          })
          .then(
            () => mark(canonical, 'caller<'),
            () => mark(canonical, 'caller<err'),
          ),
      );
    }
    const issued = clock();
    await Promise.all(calls);
    // The writes and releases end after the callers have their values: let them land in the marks.
    await new Promise((r) => setTimeout(r, 500));
    process.stdout.write(`${JSON.stringify({ t0, issued, marks: Object.fromEntries(marks) })}\n`);
  }
  await cache.close();
  process.exit(0);
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function parent(): Promise<void> {
  const callers = Number(process.argv[2] ?? 25);
  const rounds = Number(process.argv[3] ?? 2);
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
  const namespace = `probe:locks:${process.pid}:`;
  const file = fileURLToPath(import.meta.url);
  const kids = Array.from({ length: PROCESSES }, () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', file, 'child', url, namespace], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    return {
      proc,
      line: async () => (await lines.next()).value as string,
    };
  });
  for (const k of kids) await k.line();
  for (let r = 0; r < rounds; r++) {
    const msg = JSON.stringify({ prefix: `r${r}`, callers });
    for (const k of kids) k.proc.stdin.write(`${msg}\n`);
    const outs = (await Promise.all(kids.map((k) => k.line()))).map(
      (l) => JSON.parse(l) as { t0: number; issued: number; marks: Record<string, Marks> },
    );
    const phases = new Map<string, number[]>();
    const add = (name: string, v: number | undefined): void => {
      if (v === undefined || Number.isNaN(v)) return;
      let list = phases.get(name);
      if (list === undefined) {
        list = [];
        phases.set(name, list);
      }
      list.push(v);
    };
    const counts: Record<string, number> = {};
    const keys = Object.keys(outs[0]?.marks ?? {}).filter((k) => !k.includes('warm-up'));
    for (const key of keys) {
      const leader = outs.find((o) => o.marks[key]?.['load>'] !== undefined);
      const lm = leader?.marks[key];
      const releaseAt = lm?.['release<'] ?? lm?.['set<'];
      for (const o of outs) {
        const m = o.marks[key];
        if (m === undefined) continue;
        for (const step of Object.keys(m))
          counts[step.replace(/#\d+$/, '#n')] = (counts[step.replace(/#\d+$/, '#n')] ?? 0) + 1;
        add('issue (sync loop of all calls)', o.issued - o.t0);
        add('first read: t0 -> get< (miss)', m['get<miss'] !== undefined ? m['get<miss'] - o.t0 : undefined);
        add(
          'acquire round trip',
          (m['acquire<taken'] ?? m['acquire<held'])
            ? (m['acquire<taken'] ?? (m['acquire<held'] as number)) - (m['acquire>'] as number)
            : undefined,
        );
        add(
          'get< -> acquire>',
          m['acquire>'] !== undefined && m['get<miss'] !== undefined
            ? m['acquire>'] - m['get<miss']
            : undefined,
        );
        add(
          'caller< last - t0',
          m['caller<'] !== undefined
            ? Math.max(
                ...Object.entries(m)
                  .filter(([s]) => s.startsWith('caller<'))
                  .map(([, v]) => v),
              ) - o.t0
            : undefined,
        );
        if (o === leader) {
          add(
            'L acquire< -> re-read done',
            m['get<miss#2'] !== undefined ? m['get<miss#2'] - (m['acquire<taken'] as number) : undefined,
          );
          add(
            'L re-read done -> load>',
            m['get<miss#2'] !== undefined ? (m['load>'] as number) - m['get<miss#2'] : undefined,
          );
          add('L load> - t0', (m['load>'] as number) - o.t0);
          add('L load< -> set> (write start)', (m['set>'] as number) - (m['load<'] as number));
          add('L write (set> -> set<)', (m['set<'] as number) - (m['set>'] as number));
          add('L set< -> release>', (m['release>'] as number) - (m['set<'] as number));
          add('L release round trip', (m['release<'] as number) - (m['release>'] as number));
          add('L load< -> release<', (m['release<'] as number) - (m['load<'] as number));
          add('L caller< first - load<', (m['caller<'] as number) - (m['load<'] as number));
        } else {
          const waitEnd = m['wait<notice'] ?? m['wait<timeout'];
          add('W wait> - t0', m['wait>'] !== undefined ? m['wait>'] - o.t0 : undefined);
          add(
            'W leader release< -> wait< (notice delay)',
            waitEnd !== undefined && releaseAt !== undefined ? waitEnd - releaseAt : undefined,
          );
          const reread = Object.entries(m)
            .filter(([s]) => s.startsWith('get<'))
            .map(([, v]) => v)
            .filter((v) => waitEnd !== undefined && v >= waitEnd);
          add(
            'W wait< -> re-read done',
            reread.length > 0 && waitEnd !== undefined ? Math.min(...reread) - waitEnd : undefined,
          );
          add(
            'W leader load< -> caller< last',
            lm?.['load<'] !== undefined && m['caller<'] !== undefined
              ? Math.max(
                  ...Object.entries(m)
                    .filter(([s]) => s.startsWith('caller<'))
                    .map(([, v]) => v),
                ) - lm['load<']
              : undefined,
          );
        }
      }
    }
    console.log(`\nround ${r + 1}, ${callers} callers per key and process`);
    for (const [name, list] of phases) {
      console.log(
        `  ${name.padEnd(44)} n=${String(list.length).padStart(4)} p50 ${pct(list, 50).toFixed(1).padStart(6)} ms  p99 ${pct(list, 99).toFixed(1).padStart(6)} ms`,
      );
    }
    console.log(
      `  step counts: ${Object.entries(counts)
        .filter(([s]) => !s.startsWith('caller<'))
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')}`,
    );
  }
  for (const k of kids) k.proc.stdin.write('exit\n');
}

if (process.argv[2] === 'child') await child(process.argv[3] as string, process.argv[4] as string);
else await parent();
