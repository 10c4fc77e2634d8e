// Instructions per getOrSet memory hit, counted by callgrind (repeatable on a busy machine, unlike seconds):
//   pnpm --filter @cache/bench observed-cost             every mode twice under valgrind, then the table
//   node --import tsx src/observed-cost.ts <mode> <n>     one run of <n> hits (what valgrind runs)
// Modes: compiled-out (the dist copy whose tracing finds no channels), none (nobody subscribed), metrics
// (@cache/otel metrics on), every (a no-op subscriber on cache:operation). Needs a build and valgrind.
// Under valgrind the process runs ~50x slower, so the sampler of cache:operation:sample sees a slower rate and
// samples more calls than at native speed: the metrics row is an upper bound.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CacheModule, uninstrumentedCache } from './harness/uninstrumented.js';

const MODES = ['compiled-out', 'none', 'metrics', 'every'] as const;
type Mode = (typeof MODES)[number];

async function once(mode: Mode, n: number): Promise<void> {
  const module: CacheModule =
    mode === 'compiled-out'
      ? await uninstrumentedCache('.cache-uninstrumented-cost')
      : await import('@cache/cache');
  const { memoryBackend } = await import('@cache/memory');
  const cache = module.createCache({ store: memoryBackend({ maxEntries: 1024 }), ttlMs: 3_600_000 });
  const keys = Array.from({ length: 1024 }, (_, i) => `user:${i}:profile`);
  for (const key of keys) await cache.getOrSet(key, () => ({ key }));
  if (mode === 'metrics') {
    const { instrumentCache } = await import('@cache/otel');
    const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
    instrumentCache({ meterProvider: new MeterProvider(), traces: false });
  } else if (mode === 'every') {
    const dc = await import('node:diagnostics_channel');
    const noop = (): void => undefined;
    dc.tracingChannel('cache:operation').subscribe({
      start: noop,
      end: noop,
      asyncStart: noop,
      asyncEnd: noop,
      error: noop,
    });
  }
  const noLoad = (): never => {
    throw new Error('not cached');
  };
  for (let i = 0; i < n; i++) await cache.getOrSet(keys[i & 1023] as string, noLoad);
}

/** Instructions of one whole run under callgrind. */
function instructions(mode: Mode, n: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'observed-cost-'));
  const out = join(dir, 'callgrind.out');
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      process.execPath,
      '--import',
      'tsx',
      self,
      mode,
      String(n),
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`valgrind ${mode} ${n} failed: ${run.stderr.slice(-500)}`);
  const text = readFileSync(out, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const total = text.match(/^(?:summary|totals): (\d+)/m);
  if (total === null) throw new Error('no totals in the callgrind output');
  return Number(total[1]);
}

const [mode, count] = process.argv.slice(2);
if (mode !== undefined) {
  if (!(MODES as readonly string[]).includes(mode))
    throw new Error(`mode must be one of ${MODES.join(', ')}`);
  await once(mode as Mode, Number(count));
} else {
  // The difference of two runs removes start-up: instructions per hit.
  const [small, large] = [100_000, 300_000];
  const perHit = new Map<Mode, number>();
  for (const m of MODES) {
    perHit.set(m, (instructions(m, large) - instructions(m, small)) / (large - small));
    console.log(`${m.padEnd(13)} ${perHit.get(m)?.toFixed(0).padStart(6)} instructions per hit`);
  }
  const base = perHit.get('compiled-out') ?? Number.NaN;
  for (const m of MODES.slice(1)) {
    console.log(
      `${m.padEnd(13)} hits/s ÷ compiled-out ≈ ${(base / (perHit.get(m) ?? Number.NaN)).toFixed(3)}`,
    );
  }
}
