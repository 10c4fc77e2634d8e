// Redis servers that a test starts, freezes, kills and restarts itself, on ports 18000-18099 (never the shared
// servers of the test command). Each lives in <repo>/.redis-test/tests/<port>/.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const TEST_DIR = join(ROOT, '.redis-test', 'tests');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True while the process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** One command over a fresh connection; enough RESP for PING, INFO and CLUSTER INFO/NODES. */
export function rawCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let buffer = Buffer.alloc(0);
    const finish = (error: Error | null, value?: string) => {
      socket.destroy();
      if (error) fail(error);
      else done(value ?? '');
    };
    socket.setTimeout(2000, () => finish(new Error(`timeout on ${port}`)));
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return;
      const head = buffer.subarray(1, eol).toString();
      const type = String.fromCharCode(buffer[0] ?? 0);
      if (type === '-') return finish(new Error(head));
      if (type !== '$') return finish(null, head);
      const length = Number(head);
      if (length < 0) return finish(null, '');
      if (buffer.length >= eol + 4 + length)
        finish(null, buffer.subarray(eol + 2, eol + 2 + length).toString());
    });
  });
}

export function infoField(text: string, name: string): string | undefined {
  return text
    .split(/\r?\n/)
    .find((line) => line.startsWith(`${name}:`))
    ?.slice(name.length + 1)
    .trim();
}

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => done(true)));
  });
}

/** A redis-server process a test controls. */
export class TestServer {
  #child: ChildProcess | undefined;
  readonly dir: string;
  constructor(
    readonly port: number,
    readonly args: readonly string[] = [],
    /** Port to probe for readiness (the TLS port has no plain-text PING). */
    readonly probePort: number = port,
  ) {
    this.dir = join(TEST_DIR, String(port));
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts (or restarts) the server and waits until it answers PING. Keeps the data dir between restarts. */
  async start({ fresh = true } = {}): Promise<void> {
    // Never mistake another run's server on the same port for ours.
    if (!(await portFree(this.port)))
      throw new Error(`port ${this.port} is already in use (another test run?)`);
    if (fresh) rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--logfile',
        join(this.dir, 'redis.log'),
        '--save',
        '',
        '--appendonly',
        'no',
        ...this.args,
      ],
      { cwd: this.dir, stdio: 'ignore', detached: true },
    );
    child.on('error', () => {});
    child.unref();
    this.#child = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server ${this.port} exited: ${this.log()}`);
      try {
        if ((await rawCommand(this.probePort, 'PING')) === 'PONG') return;
      } catch (error) {
        if (String(error).includes('NOAUTH')) return; // up, and wants a password
      }
      if (Date.now() > deadline) throw new Error(`redis-server ${this.port} did not start: ${this.log()}`);
      await sleep(30);
    }
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'redis.log'), 'utf8').split('\n').slice(-5).join('\n');
    } catch {
      return '';
    }
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid !== undefined && isRunning(pid)) process.kill(pid, signal);
  }

  /** Stops the server (SIGKILL when `hard`), waiting until the process is gone. Safe to call twice. */
  async stop({ hard = false } = {}): Promise<void> {
    const pid = this.#child?.pid;
    if (pid === undefined || !isRunning(pid)) return;
    process.kill(pid, 'SIGCONT');
    process.kill(pid, hard ? 'SIGKILL' : 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (isRunning(pid)) {
      if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
      await sleep(20);
    }
  }
}

/** A cluster of `ports.length` nodes with one replica per master, ready to serve. */
export class TestCluster {
  readonly servers: TestServer[];
  constructor(readonly ports: readonly number[]) {
    this.servers = ports.map(
      (port) =>
        new TestServer(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
          '--repl-diskless-sync-delay',
          '0',
        ]),
    );
  }

  async start(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.start()));
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...this.ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (create.status !== 0) throw new Error(`cluster create failed: ${create.stdout}${create.stderr}`);
    await this.waitHealthy(this.ports);
  }

  /** Waits until every listed node sees all slots served and every replica of them is linked. */
  async waitHealthy(ports: readonly number[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let healthy = true;
      for (const port of ports) {
        try {
          const info = await rawCommand(port, 'CLUSTER', 'INFO');
          const repl = await rawCommand(port, 'INFO', 'replication');
          if (infoField(info, 'cluster_state') !== 'ok' || infoField(info, 'cluster_slots_ok') !== '16384') {
            healthy = false;
          } else if (infoField(repl, 'role') === 'slave' && infoField(repl, 'master_link_status') !== 'up') {
            healthy = false;
          }
        } catch {
          healthy = false;
        }
      }
      if (healthy) return;
      if (Date.now() > deadline) throw new Error('test cluster not healthy in time');
      await sleep(100);
    }
  }

  /** The server that is master of `slot`, as one node sees it. */
  async masterOf(slot: number, askPort: number): Promise<TestServer> {
    const nodes = await rawCommand(askPort, 'CLUSTER', 'NODES');
    for (const line of nodes.trim().split('\n')) {
      const [, address, flags, , , , , , ...ranges] = line.split(' ');
      if (!flags?.includes('master') || flags.includes('fail')) continue;
      for (const range of ranges) {
        const [from, to = from] = range.split('-').map(Number);
        if (from !== undefined && to !== undefined && slot >= from && slot <= to) {
          const port = Number(address?.split(':')[1]?.split('@')[0]);
          const server = this.servers.find((s) => s.port === port);
          if (server) return server;
        }
      }
    }
    throw new Error(`no master for slot ${slot}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop({ hard: true })));
  }
}
