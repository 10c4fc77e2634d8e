// Once close() has resolved, nothing the package opened keeps the process alive, not even a reconnection that was
// pending when it was called (node-redis waits between attempts on a timer its API cannot cancel). Each case runs
// in a child process against a port nobody listens on, with a 3 s reconnection delay, and must exit on its own
// soon after printing "closed": a generous bound on "does not wait for a timer", not on speed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
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

/** Runs the fixture in `mode`; resolves with how long the child lived after printing "closed". */
async function lifeAfterClose(mode: string): Promise<{ ms: number; code: number | null; stderr: string }> {
  const url = `redis://127.0.0.1:${await closedPort()}`;
  const child = spawn(TSX, [FIXTURE, mode, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let closedAt: number | undefined;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('closed')) closedAt ??= performance.now();
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
      const { ms, code, stderr } = await lifeAfterClose(mode);
      expect(code, stderr).toBe(0);
      expect(ms).toBeLessThan(EXIT_BOUND_MS);
    },
    20_000,
  );
});
