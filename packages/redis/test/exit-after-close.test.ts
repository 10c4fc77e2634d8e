// Once close() has resolved, nothing the package opened keeps the process alive, not even a reconnection that was
// pending when it was called (node-redis waits between attempts on a timer its API cannot cancel). Each case runs
// in a child process, with a 3 s reconnection delay, and must exit on its own soon after printing "closed": a
// generous bound on "does not wait for a timer", not on speed. Single-node cases run against a port nobody listens
// on; cluster cases against an own 6-node cluster on 18220-18225, one of whose masters is killed while connected.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from './servers.js';

// tsx is a dev dependency of this package, so pnpm links its bin here (the root has none on a fresh clone).
const TSX = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/exit-after-close.ts', import.meta.url));
const EXIT_BOUND_MS = 1000;

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Runs the fixture in `mode` against `target`; resolves with how long the child lived after printing "closed".
 * A fixture that prints "ready" waits for a line on stdin, sent once `whenReady` has run.
 */
async function lifeAfterClose(
  mode: string,
  target: string,
  whenReady: () => Promise<void> = async () => {},
): Promise<{ ms: number; code: number | null; stderr: string }> {
  const child = spawn(TSX, [FIXTURE, mode, target], { stdio: ['pipe', 'pipe', 'pipe'] });
  let closedAt: number | undefined;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    if (text.includes('ready')) {
      whenReady().then(
        () => child.stdin.end('go\n'),
        (error: unknown) => {
          stderr += `whenReady failed: ${String(error)}\n`;
          child.kill();
        },
      );
    }
    if (text.includes('closed')) {
      closedAt ??= performance.now();
      // A child kept alive for good fails the bound all the same, without waiting out the test's timeout.
      setTimeout(() => child.kill(), 10_000).unref();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  const exitedAt = performance.now();
  if (closedAt === undefined) throw new Error(`the fixture never closed (exit ${code}): ${stderr}`);
  return { ms: exitedAt - closedAt, code, stderr };
}

describe('a closed backend lets the process exit', () => {
  it.each(['backend', 'publisher', 'coherent'])(
    '%s: exits on its own right after close() resolves, with a reconnection pending',
    async (mode) => {
      const { ms, code, stderr } = await lifeAfterClose(mode, `redis://127.0.0.1:${await closedPort()}`);
      expect(code, stderr).toBe(0);
      expect(ms).toBeLessThan(EXIT_BOUND_MS);
    },
    20_000,
  );
});

describe('a closed cluster backend lets the process exit', () => {
  const PORTS = [18220, 18221, 18222, 18223, 18224, 18225];
  const cluster = new TestCluster(PORTS);
  const killed = new Set<number>();

  beforeAll(async () => {
    await cluster.start();
  }, 120_000);

  afterAll(async () => {
    await cluster.stop();
  });

  // A different shard loses its master in each case; the cluster fails over (its replica takes over) in between.
  it.each([
    ['cluster-backend', 0],
    ['cluster-coherent', 16383],
  ])(
    '%s: exits on its own right after close(), with a connection to a killed master being retried',
    async (mode, slot) => {
      const live = PORTS.filter((port) => !killed.has(port));
      await cluster.waitHealthy(live);
      const { ms, code, stderr } = await lifeAfterClose(
        mode,
        PORTS.map((port) => `redis://127.0.0.1:${port}`).join(','),
        async () => {
          const master = await cluster.masterOf(slot, live[0] as number);
          killed.add(master.port);
          await master.stop({ hard: true });
        },
      );
      expect(code, stderr).toBe(0);
      expect(ms).toBeLessThan(EXIT_BOUND_MS);
    },
    60_000,
  );
});
