// Starts the Redis servers our tests use, on loopback ports of their own, and stops exactly what it started.
//   standalone: 127.0.0.1:16379        cluster: 127.0.0.1:17000-17005 (3 masters, 3 replicas)
// Library: `const { env, stop } = await startRedisServers({ cluster: true })`.
// CLI (debugging): `node scripts/redis-servers.mjs start|stop|status`; `start` prints `export` lines for the env.
// It never touches port 6379 nor any server it cannot prove it started (pid file + working directory under .redis-test/).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const STANDALONE_PORT = 16379;
const CLUSTER_PORTS = [17000, 17001, 17002, 17003, 17004, 17005];
const BUS_OFFSET = 10000;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BASE_DIR = join(ROOT, '.redis-test');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a standalone server and, unless `cluster: false`, a 6-node cluster; resolves once every node is ready.
 * @param {{ cluster?: boolean, log?: (line: string) => void }} [options]
 * @returns {Promise<{ env: Record<string, string>, stop: () => Promise<void> }>}
 */
export async function startRedisServers({ cluster = true, log = () => {} } = {}) {
  ensureRedisInstalled(log);
  const ports = cluster ? [STANDALONE_PORT, ...CLUSTER_PORTS] : [STANDALONE_PORT];
  for (const port of ports) await reclaimPort(port, cluster && port !== STANDALONE_PORT, log);

  /** @type {Array<{ port: number, pid: number, child: import('node:child_process').ChildProcess }>} */
  const started = [];
  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', onExit);
      await Promise.all(started.map((s) => stopPid(s.pid)));
      log(`redis-servers: stopped ${started.map((s) => s.port).join(', ')}`);
    })();
    return stopping;
  };
  const onSignal = (signal) => {
    stop().finally(() => {
      // Our listener is gone now, so re-raising lets the default action (or the parent's own handlers) run.
      process.kill(process.pid, signal);
    });
  };
  const onExit = () => {
    for (const s of started) signalPid(s.pid, 'SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);

  try {
    started.push(spawnServer(STANDALONE_PORT, []));
    if (cluster) {
      for (const port of CLUSTER_PORTS) {
        started.push(
          spawnServer(port, [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '5000',
            '--repl-diskless-sync-delay',
            '0',
          ]),
        );
      }
    }
    await Promise.all(started.map((s) => waitForPing(s)));
    const version = infoField(await command(STANDALONE_PORT, 'INFO', 'server'), 'redis_version') ?? 'unknown';
    const env = { REDIS_URL: `redis://${HOST}:${STANDALONE_PORT}`, REDIS_SERVER_VERSION: version };
    if (cluster) {
      await createCluster(log);
      env.REDIS_CLUSTER_NODES = CLUSTER_PORTS.map((p) => `${HOST}:${p}`).join(',');
    }
    log(`redis-servers: ready (Redis ${version}) on ${ports.join(', ')}`);
    return { env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Stops every server of ours that a previous run left behind (found through .redis-test/<port>/pid). */
export async function stopLeftoverServers(log = () => {}) {
  for (const port of [STANDALONE_PORT, ...CLUSTER_PORTS]) {
    const pid = ownedPid(port);
    if (pid !== undefined) {
      log(`redis-servers: stopping leftover server on ${port} (pid ${pid})`);
      await stopPid(pid);
    }
  }
}

function ensureRedisInstalled(log) {
  const missing = ['redis-server', 'redis-cli'].filter((bin) => !onPath(bin));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${missing.join(' and ')} not found on PATH. Install Redis 7 (Debian/Ubuntu: sudo apt-get install -y redis-server redis-tools; macOS: brew install redis) and run again.`,
    );
  }
  log('redis-servers: installing redis-server and redis-tools with apt-get');
  const apt = (args) =>
    spawnSync('apt-get', args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (apt(['install', '-y', 'redis-server', 'redis-tools']).status !== 0) {
    if (apt(['update']).status !== 0 || apt(['install', '-y', 'redis-server', 'redis-tools']).status !== 0) {
      throw new Error('apt-get could not install redis-server and redis-tools; install them and run again.');
    }
  }
  if (!onPath('redis-server') || !onPath('redis-cli')) {
    throw new Error('redis-server/redis-cli still not on PATH after apt-get install.');
  }
}

function onPath(bin) {
  return spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
}

const dirFor = (port) => join(BASE_DIR, String(port));

/** The pid recorded in .redis-test/<port>/pid, if that process is alive, is a redis-server and runs in that directory. */
function ownedPid(port) {
  const dir = dirFor(port);
  let pid;
  try {
    pid = Number.parseInt(readFileSync(join(dir, 'pid'), 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return undefined;
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (!comm.startsWith('redis-server') || readlinkSync(`/proc/${pid}/cwd`) !== dir) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

async function reclaimPort(port, withBus, log) {
  const pid = ownedPid(port);
  if (pid !== undefined) {
    log(`redis-servers: stopping leftover server of ours on ${port} (pid ${pid})`);
    await stopPid(pid);
  }
  for (const p of withBus ? [port, port + BUS_OFFSET] : [port]) {
    if (!(await portFree(p))) {
      throw new Error(
        `port ${HOST}:${p} is in use by a process these scripts did not start; free it (e.g. \`ss -ltnp 'sport = :${p}'\`) and run again.`,
      );
    }
  }
  rmSync(dirFor(port), { recursive: true, force: true });
  mkdirSync(dirFor(port), { recursive: true });
}

function portFree(port) {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => done(true)));
  });
}

function spawnServer(port, extra) {
  const dir = dirFor(port);
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--logfile',
    join(dir, 'redis.log'),
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    ...extra,
  ];
  // Detached, so a Ctrl-C on the terminal reaches only us and we stop the servers in order (and `start` can exit).
  const child = spawn('redis-server', args, { cwd: dir, detached: true, stdio: 'ignore' });
  child.unref();
  child.on('error', () => {});
  if (child.pid === undefined) throw new Error(`could not spawn redis-server for port ${port}`);
  writeFileSync(join(dir, 'pid'), String(child.pid));
  return { port, pid: child.pid, child };
}

function logTail(port) {
  try {
    return readFileSync(join(dirFor(port), 'redis.log'), 'utf8')
      .trim()
      .split('\n')
      .slice(-5)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForPing({ port, child }) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited at start:\n${logTail(port)}`);
    }
    try {
      if ((await command(port, 'PING')) === 'PONG') return;
    } catch {}
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer PING:\n${logTail(port)}`);
    await sleep(50);
  }
}

async function createCluster(log) {
  const nodes = CLUSTER_PORTS.map((p) => `${HOST}:${p}`);
  const res = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...nodes, '--cluster-replicas', '1', '--cluster-yes'],
    {
      encoding: 'utf8',
      timeout: READY_TIMEOUT_MS,
    },
  );
  if (res.status !== 0) {
    throw new Error(`redis-cli --cluster create failed:\n${res.stdout}\n${res.stderr}`);
  }
  log('redis-servers: cluster created, waiting for every node to agree');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  for (;;) {
    try {
      last = await clusterProblem();
      if (last === '') return;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`cluster not ready after ${READY_TIMEOUT_MS} ms: ${last}`);
    await sleep(100);
  }
}

/** '' when every node sees the whole cluster healthy with 3 replicas, and every replica is linked to its master. */
async function clusterProblem() {
  let replicas = 0;
  for (const port of CLUSTER_PORTS) {
    const info = await command(port, 'CLUSTER', 'INFO');
    if (infoField(info, 'cluster_state') !== 'ok')
      return `${port}: cluster_state ${infoField(info, 'cluster_state')}`;
    if (infoField(info, 'cluster_slots_ok') !== '16384')
      return `${port}: slots_ok ${infoField(info, 'cluster_slots_ok')}`;
    if (infoField(info, 'cluster_known_nodes') !== String(CLUSTER_PORTS.length))
      return `${port}: known nodes`;
    const roles = String(await command(port, 'CLUSTER', 'NODES'))
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[2] ?? '');
    if (roles.filter((f) => f.includes('slave')).length !== CLUSTER_PORTS.length / 2)
      return `${port}: roles not agreed`;
    const repl = await command(port, 'INFO', 'replication');
    if (infoField(repl, 'role') === 'slave') {
      if (infoField(repl, 'master_link_status') !== 'up') return `${port}: replica link down`;
      replicas += 1;
    }
  }
  return replicas === CLUSTER_PORTS.length / 2 ? '' : `${replicas} replicas linked`;
}

function infoField(text, name) {
  const line = String(text)
    .split(/\r?\n/)
    .find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/** One command over a fresh loopback connection with a minimal RESP reader (simple, error, integer, bulk replies). */
function command(port, ...args) {
  return new Promise((resolveReply, reject) => {
    const socket = connect({ port, host: HOST });
    let buffer = Buffer.alloc(0);
    const finish = (error, value) => {
      socket.destroy();
      if (error) reject(error);
      else resolveReply(value);
    };
    socket.setTimeout(2000, () => finish(new Error(`timeout talking to ${port}`)));
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => {
      const parts = [`*${args.length}\r\n`];
      for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
      socket.write(parts.join(''));
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return;
      const head = buffer.subarray(1, eol).toString();
      switch (String.fromCharCode(buffer[0])) {
        case '+':
          return finish(null, head);
        case ':':
          return finish(null, Number(head));
        case '-':
          return finish(new Error(head));
        case '$': {
          const length = Number(head);
          if (length < 0) return finish(null, null);
          if (buffer.length < eol + 2 + length + 2) return;
          return finish(null, buffer.subarray(eol + 2, eol + 2 + length).toString());
        }
        default:
          return finish(new Error(`unexpected reply from ${port}`));
      }
    });
  });
}

/** Process state from /proc (a stopped daemon can linger as a zombie, so `kill -0` is not enough). */
function isRunning(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function signalPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {}
}

async function stopPid(pid) {
  if (!isRunning(pid)) return;
  signalPid(pid, 'SIGCONT'); // a test may have frozen it
  signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      signalPid(pid, 'SIGKILL');
      await sleep(100);
      return;
    }
    await sleep(25);
  }
}

async function main() {
  const [action = 'start', flag] = process.argv.slice(2);
  const log = (line) => console.error(line);
  if (action === 'start') {
    const { env } = await startRedisServers({ cluster: flag !== '--no-cluster', log });
    // Leave the servers running after this process exits: drop the exit/signal hooks installed for library use.
    process.removeAllListeners('exit');
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    for (const [name, value] of Object.entries(env)) console.log(`export ${name}=${value}`);
  } else if (action === 'stop') {
    await stopLeftoverServers(log);
  } else if (action === 'status') {
    for (const port of [STANDALONE_PORT, ...CLUSTER_PORTS]) {
      const pid = ownedPid(port);
      console.log(`${port}: ${pid === undefined ? 'not running' : `pid ${pid}`}`);
    }
  } else {
    throw new Error('usage: node scripts/redis-servers.mjs start [--no-cluster] | stop | status');
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
