// One loader per key across real processes sharing Redis: child processes (test/fixtures/lock-worker.ts, run with
// tsx) each with its own cache and redisLocks, against the shared single node and the shared 6-node cluster, with
// unique namespaces. Counts only: each key's loader runs once in all the processes together; every caller gets
// the value; a leader killed with SIGKILL mid-load is replaced once its lease ends, and nobody hangs.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Node itself with tsx's loader (a dev dependency of this package), so the child's pid is the worker's own and a
// SIGKILL reaches it (tsx's bin would run it in a grandchild).
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/lock-worker.ts', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const CLUSTER = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:17000,127.0.0.1:17001,127.0.0.1:17002').split(
  ',',
);

interface Done {
  readonly pid: number;
  readonly ok: number;
  readonly total: number;
  readonly lockWaits: number;
  readonly lockFallbacks: number;
  readonly errors: string[];
}

interface Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly done: Promise<Done | undefined>;
  /** Keys whose loader this worker started, in order. */
  readonly loads: string[];
  /** Resolves on the first loader start. */
  readonly loading: Promise<void>;
  start(): void;
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function worker(task: Record<string, unknown>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(task)], {
    cwd: PACKAGE_DIR,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  const loads: string[] = [];
  let readyResolve: () => void = () => undefined;
  let loadingResolve: () => void = () => undefined;
  let doneResolve: (done: Done | undefined) => void = () => undefined;
  const ready = new Promise<void>((r) => {
    readyResolve = r;
  });
  const loading = new Promise<void>((r) => {
    loadingResolve = r;
  });
  const done = new Promise<Done | undefined>((r) => {
    doneResolve = r;
  });
  let buffered = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = JSON.parse(buffered.slice(0, newline)) as { ready?: number; load?: string; done?: Done };
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (line.ready !== undefined) {
        if (line.ready !== child.pid) throw new Error('the worker runs in another process than the child');
        readyResolve();
      }
      if (line.load !== undefined) {
        loads.push(line.load);
        loadingResolve();
      }
      if (line.done !== undefined) doneResolve(line.done);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (signal === null && code !== 0) console.error(`worker exited with ${code}: ${stderr}`);
    doneResolve(undefined);
    readyResolve();
  });
  return { child, ready, done, loads, loading, start: () => child.stdin?.write('go\n') };
}

const targets = [
  { name: 'single node', target: { url: REDIS_URL } },
  { name: 'cluster', target: { cluster: CLUSTER } },
];

describe.each(targets)('redisLocks across processes on $name', ({ target }) => {
  it('4 processes x 50 callers on 20 cold keys: each key loaded once in all, every caller answered', async () => {
    const namespace = `t:cache:locks-processes:${randomBytes(4).toString('hex')}:`;
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const workers = Array.from({ length: 4 }, () =>
      worker({ ...target, namespace, keys, callers: 50, loaderMs: 50, pollMs: 200 }),
    );
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.start();
    const results = await Promise.all(workers.map((w) => w.done));
    for (const result of results) {
      expect(result).toBeDefined();
      expect(result?.ok).toBe(20 * 50);
      expect(result?.lockFallbacks).toBe(0);
      expect(result?.errors).toEqual([]);
    }
    const loads = workers.flatMap((w) => w.loads);
    const perKey = new Map<string, number>();
    for (const key of loads) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    expect(perKey.size).toBe(20);
    expect([...perKey.values()]).toEqual(keys.map(() => 1));
    // Several processes took part in the loading and the others waited for them.
    expect(results.reduce((sum, r) => sum + (r?.lockWaits ?? 0), 0)).toBeGreaterThan(0);
  }, 60_000);

  it('a leader killed with SIGKILL mid-load: another process loads once the lease ends; nobody hangs', async () => {
    const namespace = `t:cache:locks-kill:${randomBytes(4).toString('hex')}:`;
    const keys = ['victim'];
    const leader = worker({
      ...target,
      namespace,
      keys,
      callers: 10,
      loaderMs: 0,
      hang: true,
      leaseMs: 1500,
    });
    const others = Array.from({ length: 3 }, () =>
      worker({ ...target, namespace, keys, callers: 50, loaderMs: 20, leaseMs: 1500, pollMs: 200 }),
    );
    await Promise.all([leader, ...others].map((w) => w.ready));
    leader.start();
    await leader.loading; // the leader holds the lock and its loader hangs
    for (const w of others) w.start();
    await new Promise((r) => setTimeout(r, 300)); // the others found the lock held and wait
    expect(others.flatMap((w) => w.loads)).toEqual([]);
    leader.child.kill('SIGKILL');
    const results = await Promise.all(others.map((w) => w.done));
    for (const result of results) expect(result?.ok).toBe(50);
    // Exactly one of the survivors loaded, after the dead leader's lease ended.
    expect(others.flatMap((w) => w.loads)).toHaveLength(1);
    expect(results.reduce((sum, r) => sum + (r?.lockWaits ?? 0), 0)).toBeGreaterThan(0);
  }, 60_000);
});
