import { cacheError, load, operation, publish, store, syncOperation } from './helpers.js';

const ns = 'app:';
const redis = { backend: 'redis', system: 'redis' } as const;

/**
 * The scripted scenario, published on the channels as `@cache/cache` and `@cache/redis` do: hits in L1 (a
 * synchronous trace) and L2, a miss that loads, a stale serve refreshed in the background, loader failure and
 * loader timeout with fail-safe, a Redis read that times out then the breaker opening, a loader failure with
 * nothing stale, set / delete / clear, coherence messages and trust, a memory size report.
 */
export async function scenario(): Promise<void> {
  // L1 hit: synchronous.
  syncOperation({ operation: 'get', namespace: ns, key: 'user:1' }, (op) => {
    op.outcome = 'hit';
    op.source = 'memory';
  });
  // L2 hit: one Redis read.
  await operation({ operation: 'get', namespace: ns, key: 'user:2' }, async (op) => {
    await store({ ...redis, operation: 'read', key: 'user:2' }, async (read) => {
      read.bytes = 120;
    });
    op.outcome = 'hit';
    op.source = 'redis';
  });
  // Miss: Redis read finds nothing, the loader runs, the value is written.
  await operation({ operation: 'getOrSet', namespace: ns, key: 'user:3' }, async (op) => {
    await store({ ...redis, operation: 'read', key: 'user:3' }, async () => undefined);
    op.outcome = 'miss';
    await load({ namespace: ns, key: 'user:3', background: false }, async (run) => {
      run.outcome = 'loaded';
    });
    await store({ ...redis, operation: 'write', key: 'user:3' }, async (write) => {
      write.bytes = 200;
    });
  });
  // Stale served, refreshed in the background (the refresh outlives the operation).
  let refresh: Promise<void> | undefined;
  await operation({ operation: 'getOrSet', namespace: ns, key: 'user:4' }, async (op) => {
    refresh = load({ namespace: ns, key: 'user:4', background: true }, async (run) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      run.outcome = 'loaded';
    });
    op.outcome = 'stale';
    op.source = 'memory';
  });
  await refresh;
  // Loader failure, fail-safe serves the stale value.
  await operation({ operation: 'getOrSet', namespace: ns, key: 'user:5' }, async (op) => {
    await load({ namespace: ns, key: 'user:5', background: false }, async (run) => {
      run.outcome = 'failed';
      throw new TypeError('secret-token-1234 the loader failed');
    }).catch(() => undefined);
    op.outcome = 'stale';
    op.source = 'memory';
    op.failSafe = true;
  });
  // Loader timeout, fail-safe again.
  await operation({ operation: 'getOrSet', namespace: ns, key: 'user:9' }, async (op) => {
    await load({ namespace: ns, key: 'user:9', background: false }, async (run) => {
      run.outcome = 'timeout';
      throw cacheError('LOADER_TIMEOUT');
    }).catch(() => undefined);
    op.outcome = 'stale';
    op.source = 'memory';
    op.failSafe = true;
  });
  // Redis stops answering: the read times out (the cache degrades to a miss), then the breaker opens.
  await operation({ operation: 'get', namespace: ns, key: 'user:6' }, async (op) => {
    await store({ ...redis, operation: 'read', key: 'user:6' }, async () => {
      throw cacheError('TIMEOUT');
    }).catch(() => undefined);
    op.outcome = 'miss';
  });
  publish({ type: 'breaker', backend: 'redis', from: 'closed', to: 'open', reason: '5 failures' });
  // Loader failure with nothing stale: the caller gets the error.
  await operation({ operation: 'getOrSet', namespace: ns, key: 'user:7' }, async (op) => {
    op.outcome = 'miss';
    await load({ namespace: ns, key: 'user:7', background: false }, async (run) => {
      run.outcome = 'failed';
      throw new Error('secret-token-1234 boom');
    }).catch(() => undefined);
    throw cacheError('LOADER_FAILED');
  }).catch(() => undefined);
  // Writes.
  await operation({ operation: 'set', namespace: ns, key: 'user:8' }, async () => {
    await store({ ...redis, operation: 'write', key: 'user:8' }, async (write) => {
      write.bytes = 50;
    });
  });
  await operation({ operation: 'delete', namespace: ns, key: 'user:8' }, async () => {
    await store({ ...redis, operation: 'remove', key: 'user:8' }, async () => undefined);
  });
  await operation({ operation: 'clear', namespace: ns, key: undefined }, async () => {
    await store({ ...redis, operation: 'clear', key: undefined }, async () => undefined);
  });
  // Coherence and memory size.
  publish({ type: 'coherence-message', backend: 'redis', kind: 'invalidation' });
  publish({ type: 'coherence-message', backend: 'redis', kind: 'invalidation' });
  publish({ type: 'coherence-message', backend: 'redis', kind: 'heartbeat' });
  publish({ type: 'coherence-trust', backend: 'redis', trusted: false });
  publish({ type: 'memory-size', backend: 'memory-events', entries: 3, bytes: 300 });
}
