// A fleet: two Node processes, each with @cache/http over coherentTiers (a memory tier of its own in front of
// one shared Redis). A response cached by one is a hit in the other; an unsafe method in one invalidates the
// URL in both (the other's memory tier included). Needs Redis (REDIS_URL, the shared test server by default).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/fleet-worker.mjs', import.meta.url));
const NAMESPACE = `http-fleet-${randomBytes(6).toString('hex')}:`;

interface Worker {
  readonly base: string;
  readonly pid: number;
  readonly child: ChildProcess;
}

const workers: Worker[] = [];

async function startWorker(): Promise<Worker> {
  const child = spawn(process.execPath, [WORKER], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, HTTP_DIST: DIST, REDIS_URL, NAMESPACE },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fleet worker exited with ${code}`)));
  });
  const { port, pid } = JSON.parse(first) as { port: number; pid: number };
  const worker = { base: `http://127.0.0.1:${port}`, pid, child };
  workers.push(worker);
  return worker;
}

afterAll(async () => {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.child.once('exit', () => resolve());
          w.child.stdin?.write('stop\n');
        }),
    ),
  );
});

/** One request to a worker, with the fleet's public Host (as a load balancer forwards it): the key includes it. */
function call(
  worker: Worker,
  path: string,
  method = 'GET',
): Promise<{ code: number; body: string; status: string }> {
  return new Promise((resolve, reject) => {
    httpRequest(`${worker.base}${path}`, { method, headers: { host: 'shop.test' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          code: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          status: String(res.headers['cache-status'] ?? ''),
        }),
      );
    })
      .on('error', reject)
      .end(method === 'GET' ? undefined : 'change');
  });
}

const get = (worker: Worker, path: string) => call(worker, path);

describe('two processes sharing one Redis', () => {
  it('a response cached by one is a hit in the other; an unsafe method in one invalidates in both', async () => {
    const [a, b] = await Promise.all([startWorker(), startWorker()]);
    if (a === undefined || b === undefined) throw new Error('workers did not start');
    const path = `/item-${randomBytes(4).toString('hex')}`;

    const first = await get(a, path);
    expect(first.body).toBe(`${a.pid} #1`);
    expect(first.status).toContain('fwd=uri-miss');
    expect(first.status).toContain('stored');

    // B never ran its handler: it answers with A's response, from Redis, then from its own memory tier.
    const fromB = await get(b, path);
    expect(fromB.body).toBe(`${a.pid} #1`);
    expect(fromB.status).toMatch(new RegExp(`^node-${b.pid}; hit`));
    expect((await get(b, path)).body).toBe(`${a.pid} #1`);
    expect((await get(a, path)).status).toMatch(/; hit/);

    // A POST through B invalidates the URL everywhere: A's memory tier drops its copy (coherentTiers).
    const post = await call(b, path, 'POST');
    expect(post.code).toBe(204);
    expect(post.status).toBe(`node-${b.pid}; fwd=method; fwd-status=204`);
    let afterA = await get(a, path);
    for (let i = 0; i < 100 && afterA.status.includes('hit'); i++) {
      // within the coherence bound (maxStalenessMs 1000); the loop is a hang guard, not a timing assertion
      await new Promise((resolve) => setTimeout(resolve, 50));
      afterA = await get(a, path);
    }
    expect(afterA.status).toContain('fwd=uri-miss');
    expect(afterA.body).toBe(`${a.pid} #2`);
    // and B now serves A's new response
    expect((await get(b, path)).body).toBe(`${a.pid} #2`);
  }, 60_000);
});
