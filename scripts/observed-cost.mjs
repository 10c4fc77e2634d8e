// Instructions per getOrSet memory hit, counted by callgrind (repeatable on a busy machine, unlike seconds):
//   node scripts/observed-cost.mjs            runs every mode twice under valgrind and prints the table
//   node scripts/observed-cost.mjs <mode> <n> one run: <n> hits in <mode> (what valgrind runs)
// Modes: compiled-out (the dist copy bench/ makes, diagnostics finding no channels), none (nobody subscribed),
// metrics (@cache/otel metrics on), every (a no-op subscriber on cache:operation). Needs a build and valgrind.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bench = join(root, 'bench');
const require = createRequire(join(bench, 'package.json'));
const MODES = ['compiled-out', 'none', 'metrics', 'every'];

async function loadCache(mode) {
  const entry = require.resolve('@cache/cache');
  if (mode !== 'compiled-out') return import(pathToFileURL(entry).href);
  const copy = join(bench, 'node_modules', '.cache-uninstrumented-cost');
  rmSync(copy, { recursive: true, force: true });
  cpSync(dirname(entry), copy, { recursive: true });
  const tracing = join(copy, 'tracing.js');
  const source = readFileSync(tracing, 'utf8');
  const stripped = source.replace(
    'export const channels = diagnostics();',
    'export const channels = undefined;',
  );
  if (stripped === source) throw new Error('dist/tracing.js no longer defines channels as expected');
  writeFileSync(tracing, stripped);
  return import(pathToFileURL(join(copy, 'index.js')).href);
}

async function once(mode, n) {
  const { createCache } = await loadCache(mode);
  const { memoryBackend } = await import(pathToFileURL(require.resolve('@cache/memory')).href);
  const cache = createCache({ store: memoryBackend({ maxEntries: 1024 }), ttlMs: 3_600_000 });
  const keys = Array.from({ length: 1024 }, (_, i) => `user:${i}:profile`);
  for (const key of keys) await cache.getOrSet(key, () => ({ key }));
  if (mode === 'metrics') {
    const { instrumentCache } = await import(pathToFileURL(require.resolve('@cache/otel')).href);
    const sdk = await import(pathToFileURL(require.resolve('@opentelemetry/sdk-metrics')).href);
    const meterProvider = new sdk.MeterProvider({ readers: [] });
    instrumentCache({ meterProvider, traces: false });
  } else if (mode === 'every') {
    const dc = await import('node:diagnostics_channel');
    const noop = () => undefined;
    dc.tracingChannel('cache:operation').subscribe({
      start: noop,
      end: noop,
      asyncStart: noop,
      asyncEnd: noop,
      error: noop,
    });
  }
  const noLoad = () => {
    throw new Error('not cached');
  };
  for (let i = 0; i < n; i++) await cache.getOrSet(keys[i & 1023], noLoad);
}

function instructions(mode, n) {
  const dir = mkdtempSync(join(tmpdir(), 'observed-cost-'));
  const out = join(dir, 'callgrind.out');
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      process.execPath,
      fileURLToPath(import.meta.url),
      mode,
      String(n),
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`valgrind ${mode} ${n} failed: ${run.stderr.slice(-500)}`);
  const total =
    readFileSync(out, 'utf8').match(/^summary: (\d+)/m) ?? readFileSync(out, 'utf8').match(/^totals: (\d+)/m);
  rmSync(dir, { recursive: true, force: true });
  return Number(total[1]);
}

if (process.argv[2] !== undefined) {
  await once(process.argv[2], Number(process.argv[3]));
} else {
  const [small, large] = [100_000, 300_000];
  const perOp = {};
  for (const mode of MODES) {
    perOp[mode] = (instructions(mode, large) - instructions(mode, small)) / (large - small);
    console.log(`${mode.padEnd(13)} ${perOp[mode].toFixed(0).padStart(6)} instructions per hit`);
  }
  for (const mode of MODES.slice(1)) {
    console.log(
      `${mode.padEnd(13)} hits/s ÷ compiled-out ≈ ${(perOp['compiled-out'] / perOp[mode]).toFixed(3)}`,
    );
  }
}
