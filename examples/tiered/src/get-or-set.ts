import { type CacheEvent, createCache } from '@cache/cache';
import type { CacheBackend } from '@cache/core';
import { duration } from './timing.js';

interface User {
  id: number;
  name: string;
  /** Which query produced this row: 1 for the first, 2 for the next, ... */
  version: number;
}

/** How long the stand-in database takes to answer one query. */
const QUERY_MS = 50;
const CALLERS = 200;
/** Lifetimes of the stale-while-revalidate and fail-safe steps: fresh for 200 ms, then kept 5 s more. */
const SHORT = { ttlMs: 200, graceMs: 5_000 };
const BACKOFF_MS = 300;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const times = (n: number) => `${n} time${n === 1 ? '' : 's'}`;
const ms = (from: number) => duration((performance.now() - from) * 1000);

/** A stand-in for a database: every query takes {@link QUERY_MS}, is counted, and fails while `down`. */
class Database {
  queries = 0;
  down = false;
  readonly #versions = new Map<number, number>();

  async user(id: number): Promise<User> {
    this.queries++;
    if (this.down) throw new Error('database down');
    await sleep(QUERY_MS);
    const version = (this.#versions.get(id) ?? 0) + 1;
    this.#versions.set(id, version);
    return { id, name: 'Ada', version };
  }
}

/** Resolves with the next event `matches` accepts. */
function next(events: CacheEvent[], matches: (event: CacheEvent) => boolean): Promise<void> {
  const seen = events.length;
  return new Promise((resolve) => {
    const poll = () => (events.slice(seen).some(matches) ? resolve() : setTimeout(poll, 1));
    poll();
  });
}

/**
 * The getOrSet part of the demo, over `store` (memory alone, or memory in front of Redis): a stampede on a cold
 * key, a stale value served while it refreshes, and fail-safe while the database is down. Real timers, about
 * one second in all. It deletes its keys at the end (after any write still under way); the caller closes `store`.
 */
export async function runGetOrSet(store: CacheBackend): Promise<void> {
  const options = { store, namespace: 'getorset', ttlMs: 10_000, graceMs: 5_000 };
  const cache = createCache(options);
  const byHand = createCache(options); // same store and keys, its own counters
  const events: CacheEvent[] = [];
  cache.on((event) => events.push(event));
  const db = new Database();
  const keys = ['user:1', 'user:2', 'user:42'];
  try {
    console.log(`\n1. Stampede: ${CALLERS} concurrent requests for one cold key, a ${QUERY_MS} ms query`);
    const handWritten = async () => {
      const cached = await byHand.get<User>('user:2');
      if (cached !== undefined) return cached;
      const user = await db.user(2);
      await byHand.set('user:2', user);
      return user;
    };
    await Promise.all(Array.from({ length: CALLERS }, handWritten));
    console.log(`   by hand (get, query on a miss, set): the query ran ${times(db.queries)}`);
    db.queries = 0;
    const before = cache.stats();
    const waits = await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        const start = performance.now();
        await cache.getOrSet('user:1', () => db.user(1));
        return performance.now() - start;
      }),
    );
    waits.sort((a, b) => a - b);
    const after = cache.stats();
    console.log(
      `   getOrSet: the query ran ${times(db.queries)}; ${after.collapsed - before.collapsed} callers joined` +
        ` the running query, ${after.hits - before.hits} found its result already loaded`,
    );
    const median = waits[Math.floor(waits.length / 2)] ?? Number.NaN;
    const slowest = waits.at(-1) ?? Number.NaN;
    console.log(
      `   callers waited ${duration(median * 1000)} (median), ${duration(slowest * 1000)} (slowest):` +
        ` the one query, not ${CALLERS} of them`,
    );

    console.log(`\n2. Stale-while-revalidate: ttlMs ${SHORT.ttlMs}, graceMs ${SHORT.graceMs}`);
    const load42 = () => db.user(42);
    await cache.getOrSet('user:42', load42, SHORT);
    await sleep(SHORT.ttlMs + 50);
    const refreshed = next(events, (e) => e.type === 'loaded' && e.background);
    let start = performance.now();
    const stale = await cache.getOrSet('user:42', load42, SHORT);
    console.log(
      `   ${SHORT.ttlMs + 50} ms later (stale): version ${stale.version} in ${ms(start)}, at once;` +
        ` a refresh runs in the background`,
    );
    await refreshed;
    await sleep(10); // and its write has landed
    start = performance.now();
    const fresh = await cache.getOrSet('user:42', load42, SHORT);
    const source = events.findLast((e) => e.type === 'hit')?.source;
    console.log(
      `   once the refresh is in (${QUERY_MS} ms later): version ${fresh.version} in ${ms(start)}` +
        ` (fresh, from "${source}")`,
    );

    const failSafe = { ...SHORT, stalePolicy: 'inline', failSafeBackoffMs: BACKOFF_MS } as const;
    console.log(
      `\n3. Fail-safe: the database goes down; stalePolicy 'inline' (wait for the query), failSafeBackoffMs ${BACKOFF_MS}`,
    );
    await sleep(SHORT.ttlMs + 50);
    db.down = true;
    db.queries = 0;
    const seen = events.length;
    start = performance.now();
    const kept = await cache.getOrSet('user:42', load42, failSafe);
    console.log(
      `   the query throws "database down": the caller gets version ${kept.version} (stale) in ${ms(start)}`,
    );
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push((await cache.getOrSet('user:42', load42, failSafe)).version);
    console.log(
      `   20 more requests within the backoff: versions {${[...new Set(answers)].join(', ')}},` +
        ` the query ran ${times(db.queries)} in all, not 21`,
    );
    const shown = events.slice(seen).filter((e) => e.type !== 'miss');
    const staleCount = shown.filter((e) => e.type === 'stale' && e.reason === 'fail-safe').length;
    for (const event of shown) {
      if (event.type === 'loader-error') {
        const cause = event.error.cause instanceof Error ? event.error.cause.message : '';
        console.log(`   event loader-error: ${event.error.code}, cause "${cause}"`);
      } else if (event.type === 'fail-safe') {
        console.log(`   event fail-safe: the stale value stood in (${event.error.code})`);
      }
    }
    console.log(`   event stale (reason "fail-safe") x ${staleCount}`);
    await sleep(BACKOFF_MS);
    db.down = false;
    start = performance.now();
    const back = await cache.getOrSet('user:42', load42, failSafe);
    console.log(
      `   backoff over, database back: the next request queries it again: version ${back.version} in ${ms(start)}`,
    );

    const s = cache.stats();
    const bySource = Object.entries(s.hitsBySource)
      .map(([label, n]) => `${label} ${n}`)
      .join(', ');
    console.log(
      `\n   cache.stats(): ${s.hits} hits (${bySource}), ${s.staleHits} stale, ${s.misses} misses, ${s.loads} loads,` +
        `\n   ${s.collapsed} collapsed, ${s.refreshes} refreshes, ${s.loaderErrors} loader errors, ${s.failSafe} fail-safe, ${s.storeErrors} store errors`,
    );
  } finally {
    // delete() waits for a write still under way, so nothing lands after it.
    await Promise.all(keys.map((key) => cache.delete(key)));
  }
}
