import type { CacheStats } from '@cache/cache';
import type { Sample } from './prometheus.js';

type Labels = Readonly<Record<string, string>>;

const sum = (samples: readonly Sample[], name: string, where: (labels: Labels) => boolean = () => true) =>
  samples.filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);

/** `cache.operations` counts every `get` and `getOrSet` (and their batch forms) as one `lookup`. */
const isLookup = (labels: Labels) => labels.cache_operation === 'lookup';

/** The numbers `cache.stats()` keeps, computed from the scrape instead. */
export function statsFromScrape(samples: readonly Sample[]): Record<string, number> {
  const ops = 'cache_operations_total';
  const runs = 'cache_loader_runs_total';
  const numbers: Record<string, number> = {
    hits: sum(samples, ops, (l) => isLookup(l) && l.cache_outcome === 'hit'),
    staleHits: sum(samples, ops, (l) => isLookup(l) && l.cache_outcome === 'stale'),
    misses: sum(samples, ops, (l) => isLookup(l) && l.cache_outcome === 'miss'),
    loads: sum(samples, runs),
    loaderErrors: sum(samples, runs, (l) => l.cache_loader_outcome === 'failed'),
    hardTimeouts: sum(samples, runs, (l) => l.cache_loader_outcome === 'timeout'),
    failSafe: sum(samples, 'cache_fail_safe_activations_total'),
    refreshes: sum(samples, 'cache_refreshes_total'),
  };
  for (const s of samples) {
    if (s.name === ops && isLookup(s.labels) && s.labels.cache_outcome === 'hit') {
      const key = `hitsBySource.${s.labels.cache_tier ?? 'store'}`;
      numbers[key] = (numbers[key] ?? 0) + s.value;
    }
  }
  return numbers;
}

/** The same numbers from `cache.stats()`. */
export function statsFromCache(stats: CacheStats): Record<string, number> {
  const numbers: Record<string, number> = {
    hits: stats.hits,
    staleHits: stats.staleHits,
    misses: stats.misses,
    loads: stats.loads,
    loaderErrors: stats.loaderErrors,
    hardTimeouts: stats.hardTimeouts,
    failSafe: stats.failSafe,
    refreshes: stats.refreshes,
  };
  for (const [source, hits] of Object.entries(stats.hitsBySource)) numbers[`hitsBySource.${source}`] = hits;
  return numbers;
}

/** Hit ratio of each tier over all lookups (`get` and `getOrSet`). */
export function hitRatios(samples: readonly Sample[]): Array<[tier: string, hits: number, ratio: number]> {
  const lookups = sum(samples, 'cache_operations_total', isLookup);
  const tiers = new Map<string, number>();
  for (const s of samples) {
    if (s.name === 'cache_operations_total' && isLookup(s.labels) && s.labels.cache_outcome === 'hit') {
      const tier = s.labels.cache_tier ?? 'store';
      tiers.set(tier, (tiers.get(tier) ?? 0) + s.value);
    }
  }
  return [...tiers].map(([tier, hits]) => [tier, hits, lookups === 0 ? 0 : hits / lookups]);
}

/**
 * The upper bound of the bucket holding quantile `q` of each operation, from the cumulative `_bucket` samples
 * of a histogram added up over every other label: as precise as the buckets, which is what Prometheus gives.
 */
export function quantiles(
  samples: readonly Sample[],
  histogram: string,
  by: string,
  qs: readonly number[],
): Map<string, { count: number; bounds: number[] }> {
  const buckets = new Map<string, Map<number, number>>();
  for (const s of samples) {
    if (s.name !== `${histogram}_bucket`) continue;
    const group = s.labels[by] ?? '';
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    const cumulative = buckets.get(group) ?? new Map<number, number>();
    cumulative.set(le, (cumulative.get(le) ?? 0) + s.value);
    buckets.set(group, cumulative);
  }
  const out = new Map<string, { count: number; bounds: number[] }>();
  for (const [group, cumulative] of buckets) {
    const sorted = [...cumulative].sort((a, b) => a[0] - b[0]);
    const count = sorted.at(-1)?.[1] ?? 0;
    const bounds = qs.map((q) => sorted.find(([, n]) => n >= q * count)?.[0] ?? Number.POSITIVE_INFINITY);
    out.set(group, { count, bounds });
  }
  return out;
}

/** Seconds as `≤ 250 µs`, `≤ 5 ms`. */
export function formatBound(seconds: number): string {
  if (!Number.isFinite(seconds)) return '> top bucket';
  if (seconds < 0.001) return `≤ ${Math.round(seconds * 1e6)} µs`;
  if (seconds < 1) return `≤ ${+(seconds * 1e3).toFixed(3)} ms`;
  return `≤ ${seconds} s`;
}
