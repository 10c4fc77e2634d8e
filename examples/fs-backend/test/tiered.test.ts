import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBackendConformance } from '@cache/backend-tests';
import { CacheKey, CacheValue, type Composition, compose, type ReadInfo } from '@cache/core';
import { type MemoryBackend, memoryBackend } from '@cache/memory';
import { createFsBackend, type FsBackend } from '../src/index.js';

let root: string;
let counter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cache-backend-fs-tiered-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A memory tier in front of a file-system tier, as one process would build it. */
function tiers(directory: string, now: () => number = Date.now): Composition<MemoryBackend, FsBackend> {
  return compose(memoryBackend({ maxEntries: 1000, now }), createFsBackend({ directory, now }), {
    now,
    onError: (event) => assert.fail(`unexpected layer error: ${event.error.message}`),
  });
}

describe('cache-backend-fs behind the memory tier', () => {
  it('writes both tiers, serves hits from memory, and refills memory from disk after a restart', async () => {
    const clock = { now: 1_700_000_000_000 };
    const directory = join(root, `case-${++counter}`);
    const first = tiers(directory, () => clock.now);
    const key = CacheKey.from({ user: '42' }, { prefix: 'tiered' });
    const value = new CacheValue({ name: 'Ada' }, clock.now + 60_000, clock.now + 10_000);
    await first.set(key, value);
    const info: ReadInfo = {};
    assert.deepEqual((await first.get(key, info))?.data, { name: 'Ada' });
    assert.equal(info.source, 'cache.memory');
    await first.close();

    // A new process: empty memory, same directory.
    const second = tiers(directory, () => clock.now);
    const fromDisk: ReadInfo = {};
    const hit = await second.get<{ name: string }>(key, fromDisk);
    assert.equal(fromDisk.source, 'cache.fs');
    assert.deepEqual(hit?.data, { name: 'Ada' });
    assert.equal(hit?.expire, value.expire);
    assert.equal(hit?.stale, value.stale);
    await second.whenIdle();
    const refilled = second.l1.get<{ name: string }>(key);
    assert.equal(refilled?.expire, value.expire, 'memory got the entry with its absolute expiry');
    const again: ReadInfo = {};
    await second.get(key, again);
    assert.equal(again.source, 'cache.memory');

    clock.now += 60_000;
    assert.equal(await second.get(key), undefined, 'expired in both tiers');
    assert.equal(await second.l2.get(key), undefined);
    await second.close();
  });

  it('deletes from both tiers and counts them', async () => {
    const backend = tiers(join(root, `case-${++counter}`));
    const key = CacheKey.of('k');
    await backend.set(key, new CacheValue('v'));
    assert.deepEqual(await backend.delete(key), { kind: 'deleted', count: 2 });
    assert.equal(await backend.l2.get(key), undefined);
    await backend.close();
  });
});

const directories = new WeakMap<object, string>();

runBackendConformance<Composition<MemoryBackend, FsBackend>>({
  name: 'memory over cache-backend-fs',
  runner: { describe, it },
  async create() {
    const directory = await mkdtemp(join(tmpdir(), 'cache-backend-fs-tiered-conformance-'));
    const backend = tiers(directory);
    directories.set(backend, directory);
    return backend;
  },
  async destroy(backend) {
    await backend.whenIdle();
    await backend.close();
    await rm(directories.get(backend) ?? '', { recursive: true, force: true });
  },
  layers: 2,
  capabilities: { expiryPrecisionMs: 0, maxValueBytes: 1024 * 1024, losslessKeys: true, binaryData: false },
  valueOfSize: (bytes) => 'x'.repeat(bytes - 2),
});
