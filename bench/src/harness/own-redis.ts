/**
 * A redis-server a bench case starts for itself, to freeze (SIGSTOP) and thaw (SIGCONT) without disturbing
 * anyone else's: its own loopback port, its own temporary directory, no persistence. It is thawed and killed on
 * every exit path: `stop()`, the process exiting, SIGINT or SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';

/** Ports shared with the test command and other engineers: never ours to start, freeze or stop. */
const SHARED_PORTS = new Set([6379, 16379, 17000, 17001, 17002, 17003, 17004, 17005]);
const READY_TIMEOUT_MS = 10_000;

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => done(true)));
  });
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** True when `redis-server` is on the PATH. */
export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A redis-server this process started on `127.0.0.1:port`. */
export class OwnRedisServer {
  readonly port: number;
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #onExit = (): void => {
    this.#kill();
    this.#removeDir();
  };
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.#kill();
    this.#removeDir();
    this.#unhook();
    process.kill(process.pid, signal);
  };

  private constructor(port: number, child: ChildProcess, dir: string) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#child = child;
    this.#dir = dir;
    process.on('exit', this.#onExit);
    process.once('SIGINT', this.#onSignal);
    process.once('SIGTERM', this.#onSignal);
  }

  /** Starts a server on `port` (refusing a shared port or one in use) and waits until it answers PING. */
  static async start(port: number): Promise<OwnRedisServer> {
    if (SHARED_PORTS.has(port)) throw new Error(`port ${port} belongs to the shared test servers`);
    if (!(await portFree(port))) throw new Error(`port ${port} is already in use`);
    const dir = mkdtempSync(join(tmpdir(), 'cache-bench-redis-'));
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      { cwd: dir, stdio: 'ignore' },
    );
    child.on('error', () => {});
    const server = new OwnRedisServer(port, child, dir);
    try {
      await server.#waitReady();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** Freezes the process: connections stay open, nothing is answered. */
  freeze(): void {
    if (alive(this.#child)) this.#child.kill('SIGSTOP');
  }

  /** Lets a frozen process run again. */
  thaw(): void {
    if (alive(this.#child)) this.#child.kill('SIGCONT');
  }

  /** Thaws and kills the server, waits until it is gone, and removes its directory. Safe to call twice. */
  async stop(): Promise<void> {
    this.#kill();
    const deadline = Date.now() + 5000;
    while (alive(this.#child) && Date.now() < deadline) await sleep(20);
    this.#unhook();
    this.#removeDir();
  }

  #removeDir(): void {
    try {
      rmSync(this.#dir, { recursive: true, force: true });
    } catch {
      // a process killed just now may still hold it; it is a temporary directory
    }
  }

  #kill(): void {
    if (!alive(this.#child)) return;
    this.#child.kill('SIGCONT');
    this.#child.kill('SIGKILL');
  }

  #unhook(): void {
    process.off('exit', this.#onExit);
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!alive(this.#child)) throw new Error(`redis-server on ${this.port} exited at start`);
      const client = createClient({
        url: this.url,
        socket: { reconnectStrategy: false, connectTimeout: 500 },
      });
      client.on('error', () => {});
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        if (client.isOpen) client.destroy();
      }
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer PING`);
      await sleep(50);
    }
  }
}
