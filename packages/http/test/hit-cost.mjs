// CPU cost of a cache hit through the node:http middleware, in instructions per request counted by callgrind
// (repeatable on a busy machine, unlike seconds). The server runs under valgrind in a child process; this process
// sends it the requests (a keep-alive client on raw sockets, not counted), so the count is the server's alone.
//   node test/hit-cost.mjs                 every mode, twice (a small and a large run), prints the table
//   node test/hit-cost.mjs <mode>...       those modes only
//   node test/hit-cost.mjs serve <mode>    one server (what valgrind runs); prints {"port":N}, exits when stdin ends
// Modes: by-hand (a Map and writeHead, the bench's reference), middleware-memory, middleware-redis (REDIS_URL),
// express-by-hand, express-middleware. Needs a build of @cache/http (pnpm --filter @cache/http build) and valgrind.
// Same route as bench/src/cases/http-servers.ts: GET /item/1, a 1 KB JSON body, handler 10 ms, max-age=3600.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const MODES = ['by-hand', 'middleware-memory', 'middleware-redis', 'express-by-hand', 'express-middleware'];
const CONNECTIONS = 8;
const PATH = '/item/1';

function documentFor(path) {
  return Buffer.from(JSON.stringify({ path, filler: 'x'.repeat(1000 - path.length) }));
}

async function handler(req, res) {
  await sleep(10);
  const body = documentFor(req.url ?? '/');
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': body.byteLength,
    'cache-control': 'public, max-age=3600',
  });
  res.end(body);
}

function byHand() {
  const stored = new Map();
  return (req, res) => {
    const hit = stored.get(req.url ?? '/');
    if (hit !== undefined) {
      res.writeHead(hit.status, hit.headers);
      res.end(hit.body);
      return;
    }
    void sleep(10).then(() => {
      const body = documentFor(req.url ?? '/');
      const entry = {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'content-length': body.byteLength,
          'cache-control': 'public, max-age=3600',
        },
        body,
      };
      stored.set(req.url ?? '/', entry);
      res.writeHead(entry.status, entry.headers);
      res.end(entry.body);
    });
  };
}

async function middleware(redisUrl) {
  const { createHttpCache, cacheMiddleware } = await import('../dist/index.js');
  const { memoryBackend } = await import('@cache/memory');
  let store = memoryBackend({ maxEntries: 10_000 });
  if (redisUrl !== undefined) {
    const { compose } = await import('@cache/core');
    const { RedisBackend } = await import('@cache/redis');
    store = compose(store, new RedisBackend({ url: redisUrl, namespace: `hit-cost:${process.pid}:` }));
  }
  return cacheMiddleware(createHttpCache({ store }));
}

async function listener(mode) {
  switch (mode) {
    case 'by-hand':
      return byHand();
    case 'middleware-memory':
    case 'middleware-redis': {
      const mw = await middleware(mode === 'middleware-redis' ? process.env.REDIS_URL : undefined);
      return (req, res) => mw(req, res, () => void handler(req, res));
    }
    case 'express-by-hand': {
      const { default: express } = await import('express');
      const app = express();
      app.get('/item/:id', byHand());
      return app;
    }
    case 'express-middleware': {
      const { default: express } = await import('express');
      const app = express();
      app.get('/item/:id', await middleware(undefined), (req, res) => void handler(req, res));
      return app;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

async function serve(mode) {
  const server = createServer(await listener(mode));
  server.keepAliveTimeout = 600_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

/** `n` requests over CONNECTIONS keep-alive sockets, one in flight per socket; checks every status is 200. */
async function client(port, n) {
  const request = Buffer.from(`GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  let sent = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let buffer = Buffer.alloc(0);
      const next = () => {
        if (sent >= n) {
          socket.end();
          resolve();
          return;
        }
        sent++;
        socket.write(request);
      };
      socket.on('connect', next);
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffer.subarray(0, end).toString('latin1');
          if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`unexpected answer: ${head}`));
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1]);
          if (!Number.isInteger(length)) return reject(new Error(`no content-length: ${head}`));
          if (buffer.length < end + 4 + length) return;
          buffer = buffer.subarray(end + 4 + length);
          next();
        }
      });
    });
  await Promise.all(Array.from({ length: CONNECTIONS }, one));
}

/** Instructions the server of `mode` executed while serving `n` requests (after one warming request). */
async function instructions(mode, n) {
  const dir = mkdtempSync(join(tmpdir(), 'http-hit-cost-'));
  const out = join(dir, 'callgrind.out');
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      process.execPath,
      fileURLToPath(import.meta.url),
      'serve',
      mode,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`server ${mode} exited with ${code}: ${stderr.slice(-800)}`)),
    );
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).port));
  });
  await client(port, CONNECTIONS); // fills the cache
  await client(port, n);
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`server ${mode} exited with ${code}: ${stderr.slice(-800)}`);
  const text = readFileSync(out, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const total = text.match(/^summary: (\d+)/m) ?? text.match(/^totals: (\d+)/m);
  return Number(total[1]);
}

const [first, second] = process.argv.slice(2);
if (first === 'serve') {
  await serve(second);
} else {
  const modes = process.argv.length > 2 ? process.argv.slice(2) : MODES;
  const [small, large] = [Number(process.env.SMALL ?? 2_000), Number(process.env.LARGE ?? 10_000)];
  const perRequest = {};
  for (const mode of modes) {
    if (mode === 'middleware-redis' && process.env.REDIS_URL === undefined) continue;
    perRequest[mode] =
      ((await instructions(mode, large)) - (await instructions(mode, small))) / (large - small);
    console.log(`${mode.padEnd(20)} ${perRequest[mode].toFixed(0).padStart(8)} instructions per request`);
  }
  for (const [mode, versus] of [
    ['middleware-memory', 'by-hand'],
    ['middleware-redis', 'by-hand'],
    ['express-middleware', 'express-by-hand'],
  ]) {
    if (perRequest[mode] === undefined || perRequest[versus] === undefined) continue;
    console.log(
      `${mode.padEnd(20)} req/s ÷ ${versus} ≈ ${(perRequest[versus] / perRequest[mode]).toFixed(3)}`,
    );
  }
}
