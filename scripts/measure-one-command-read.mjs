#!/usr/bin/env node
// Would a single-key read of @cache/redis gain from one command instead of two (HMGET + PTTL)?
//
//   node scripts/measure-one-command-read.mjs [--port 18410] [--rounds 15] [--round-ms 300]
//
// Starts a redis-server of its own on --port (stopped at the end), writes 1,000 entries in our layout for each
// payload size, then times, interleaved round by round with rotating order, three ways to read one entry with
// node-redis `sendCommand` (Buffer replies) and 100 (then 1) reads in flight:
//   pair   - HMGET key d s e c + PTTL key, sent together (what RedisBackend.read sends today);
//   hmget  - HMGET key d s e c alone, trusting the stored `e` (loses hitbox interop: hitbox rewrites an entry in
//            place with a whole-second EXPIRE and leaves our `e` behind, so only PTTL tells the real expiry);
//   script - EVALSHA of a Lua script returning both replies (same answer as the pair, taken atomically; needs the
//            @scripting ACL category and NOSCRIPT handling after a restart or failover).
// Prints the median ops/s per way, the median of the per-round ratios to the pair, and the server's own cost
// per call from INFO commandstats. No payload decoding: the ratios are upper bounds for a whole `get`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(new URL('../packages/redis/package.json', import.meta.url));
const { createClient, RESP_TYPES } = require('@redis/client');

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '18410' },
    rounds: { type: 'string', default: '15' },
    'round-ms': { type: 'string', default: '300' },
  },
});
const PORT = Number(values.port);
const ROUNDS = Number(values.rounds);
const ROUND_MS = Number(values['round-ms']);
const KEYS = 1000;
const FIELDS = ['d', 's', 'e', 'c'];
const SCRIPT = "return { redis.call('HMGET', KEYS[1], 'd', 's', 'e', 'c'), redis.call('PTTL', KEYS[1]) }";
const BYTES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'one-command-read-'));
  const child = spawn(
    'redis-server',
    ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const client = createClient({ url: `redis://127.0.0.1:${PORT}` });
  client.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await client.connect();
      return { child, client, dir };
    } catch {
      await sleep(50);
    }
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${PORT}`);
}

async function fill(client, bytes) {
  const now = Date.now();
  const payload = Buffer.alloc(bytes, 7);
  const keys = [];
  for (let i = 0; i < KEYS; i++) {
    const key = `measure:${bytes}:${i}`;
    keys.push(key);
    await client
      .multi()
      .del(key)
      .hSet(key, { d: payload, c: 'cbor/none', s: String(now + 3_000_000), e: String(now + 3_600_000) })
      .pExpireAt(key, now + 3_600_000)
      .exec();
  }
  return keys;
}

function readers(client, sha) {
  return {
    pair: (key) =>
      Promise.all([client.sendCommand(['HMGET', key, ...FIELDS], BYTES), client.sendCommand(['PTTL', key])]),
    hmget: (key) => client.sendCommand(['HMGET', key, ...FIELDS], BYTES),
    script: (key) => client.sendCommand(['EVALSHA', sha, '1', key], BYTES),
  };
}

/** Runs `inFlight` loops of `read` for `ms` and returns ops/s. */
async function slot(read, keys, inFlight, ms) {
  let ops = 0;
  let i = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const reply = await read(keys[i++ % keys.length]);
        if (reply == null) throw new Error('a read missed');
        ops++;
      }
    }),
  );
  return ops / ((performance.now() - start) / 1000);
}

async function measure(client, sha, keys, inFlight) {
  const ways = readers(client, sha);
  const names = Object.keys(ways);
  for (const name of names) await slot(ways[name], keys, inFlight, 200); // warm-up
  const rates = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, j) => names[(j + round) % names.length]);
    for (const name of order) rates[name].push(await slot(ways[name], keys, inFlight, ROUND_MS));
  }
  return names.map((name) => ({
    name,
    opsPerSec: median(rates[name]),
    ratio: median(rates[name].map((rate, round) => rate / rates.pair[round])),
  }));
}

async function serverCost(client) {
  const info = String(await client.sendCommand(['INFO', 'commandstats']));
  const cost = {};
  for (const command of ['hmget', 'pttl', 'evalsha']) {
    const match = new RegExp(`cmdstat_${command}:calls=(\\d+),usec=(\\d+),usec_per_call=([\\d.]+)`).exec(
      info,
    );
    if (match !== null) cost[command] = Number(match[3]);
  }
  return cost;
}

const { child, client, dir } = await startServer();
try {
  const sha = String(await client.scriptLoad(SCRIPT));
  console.log(
    `# one-command read, redis-server on ${PORT}, ${ROUNDS} rounds x ${ROUND_MS} ms, load ${(await import('node:os')).loadavg()[0].toFixed(2)}`,
  );
  for (const bytes of [1024, 100 * 1024]) {
    const keys = await fill(client, bytes);
    for (const inFlight of [100, 1]) {
      await client.sendCommand(['CONFIG', 'RESETSTAT']);
      const results = await measure(client, sha, keys, inFlight);
      const cost = await serverCost(client);
      console.log(`\n## ${bytes / 1024} KB payload, ${inFlight} in flight`);
      console.log('| read | ops/s (median) | ÷ pair (median of rounds) |');
      console.log('|---|--:|--:|');
      for (const r of results)
        console.log(`| ${r.name} | ${Math.round(r.opsPerSec)} | ${r.ratio.toFixed(2)} |`);
      console.log(
        `server usec per call: HMGET ${cost.hmget}, PTTL ${cost.pttl} (pair ${((cost.hmget ?? 0) + (cost.pttl ?? 0)).toFixed(2)}), EVALSHA ${cost.evalsha}`,
      );
    }
  }
} finally {
  await client.close().catch(() => undefined);
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
