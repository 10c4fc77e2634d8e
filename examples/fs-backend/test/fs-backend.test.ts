import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CacheError, CacheKey, CacheValue, type Format, urlEncoded } from '@cache/core';
import { createFsBackend, type FsBackendOptions } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
let root: string;
let counter = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cache-backend-fs-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A backend in a fresh directory, with a clock the test moves by hand. */
function fresh(options: Partial<FsBackendOptions> = {}) {
  const clock = { now: 1_700_000_000_000 };
  const directory = join(root, `case-${++counter}`);
  const backend = createFsBackend({ directory, now: () => clock.now, ...options });
  return { backend, clock, directory };
}

/** Stores `Uint8Array` data as it is, so the raw bytes on disk are exactly what the test chose. */
const bytesFormat: Format = {
  id: 'bytes',
  serialize(value) {
    if (!(value instanceof Uint8Array)) throw new CacheError('SERIALIZE', 'not bytes');
    return value;
  },
  deserialize(bytes) {
    return bytes;
  },
};

async function rejectsWith(promise: Promise<unknown>, code: CacheError['code']): Promise<CacheError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(CacheError.is(error), `expected a CacheError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a ${code} rejection`);
}

async function entryFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.entry'));
}

describe('cache-backend-fs', () => {
  it('round-trips data with expire and stale to the millisecond', async () => {
    const { backend, clock } = fresh();
    const key = CacheKey.from({ user: '42' }, { prefix: 'app', version: 3 });
    await backend.set(
      key,
      new CacheValue({ name: 'Ada', tags: ['x'] }, clock.now + 60_001, clock.now + 10_007),
    );
    const info: { source?: string } = {};
    const value = await backend.get<{ name: string }>(key, info);
    assert.deepEqual(value?.data, { name: 'Ada', tags: ['x'] });
    assert.equal(value?.expire, clock.now + 60_001);
    assert.equal(value?.stale, clock.now + 10_007);
    assert.equal(info.source, 'fs');
    await backend.close();
  });

  it('replaces the whole entry, metadata included', async () => {
    const { backend, clock } = fresh();
    const key = CacheKey.of('k');
    await backend.set(key, new CacheValue('old', clock.now + 1000, clock.now + 500));
    await backend.set(key, new CacheValue('new'));
    const value = await backend.get<string>(key);
    assert.equal(value?.data, 'new');
    assert.equal(value?.expire, undefined);
    assert.equal(value?.stale, undefined);
  });

  it('keeps a null part value apart from an empty one (lossless keys by default)', async () => {
    const { backend } = fresh();
    await backend.set(CacheKey.of('a', null), new CacheValue('null'));
    await backend.set(CacheKey.of('a', ''), new CacheValue('empty'));
    assert.equal((await backend.get(CacheKey.of('a', null)))?.data, 'null');
    assert.equal((await backend.get(CacheKey.of('a', '')))?.data, 'empty');
    assert.equal(backend.capabilities.losslessKeys, true);
    const lossy = fresh({ keyFormat: urlEncoded }).backend;
    assert.equal(lossy.capabilities.losslessKeys, false);
  });

  it('stores all 256 byte values at the raw level', async () => {
    const { backend } = fresh({ format: bytesFormat });
    const data = new Uint8Array(4096);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
    const key = CacheKey.of('binary');
    await backend.set(key, new CacheValue(data));
    const value = await backend.get<Uint8Array>(key);
    assert.ok(value?.data instanceof Uint8Array);
    assert.deepEqual(Array.from(value.data), Array.from(data));
    await backend.set(key, new CacheValue(new Uint8Array(0)));
    assert.equal((await backend.get<Uint8Array>(key))?.data.length, 0);
  });

  it('misses an expired entry and removes its file', async () => {
    const { backend, clock, directory } = fresh();
    const key = CacheKey.of('short');
    await backend.set(key, CacheValue.fromTtl('v', { ttlMs: 50 }, clock.now));
    assert.equal((await backend.get(key))?.data, 'v');
    clock.now += 50;
    assert.equal(await backend.get(key), undefined);
    assert.deepEqual(await entryFiles(directory), []);
  });

  it('removes the entry when an already expired value is set', async () => {
    const { backend, clock, directory } = fresh();
    const key = CacheKey.of('k');
    await backend.set(key, new CacheValue('v'));
    await backend.set(key, new CacheValue('gone', clock.now - 1));
    assert.equal(await backend.get(key), undefined);
    assert.deepEqual(await entryFiles(directory), []);
  });

  it('reports deleted once, then missing; an expired entry deletes as missing', async () => {
    const { backend, clock } = fresh();
    const key = CacheKey.of('k');
    await backend.set(key, new CacheValue('v'));
    assert.deepEqual(await backend.delete(key), { kind: 'deleted', count: 1 });
    assert.deepEqual(await backend.delete(key), { kind: 'missing' });
    await backend.set(key, new CacheValue('v', clock.now + 10));
    clock.now += 10;
    assert.deepEqual(await backend.delete(key), { kind: 'missing' });
    assert.equal(await stat(backend.pathOf(key)).catch(() => 'gone'), 'gone');
  });

  it('never lets key text reach the file system', async () => {
    const { backend, directory } = fresh();
    const hostile = [
      '../../etc/passwd',
      '/etc/passwd',
      '..\\..\\windows\\system32',
      'a\u0000b',
      'x'.repeat(10_000),
      'CON',
      '.',
    ];
    for (const text of hostile)
      await backend.set(CacheKey.of(text, text, { prefix: text }), new CacheValue(text));
    for (const text of hostile) {
      assert.equal((await backend.get(CacheKey.of(text, text, { prefix: text })))?.data, text);
    }
    const names = await readdir(directory);
    assert.equal(names.length, hostile.length);
    for (const name of names) assert.match(name, /^[0-9a-f]{64}\.entry$/);
    await assert.rejects(stat(join(root, 'etc')), { code: 'ENOENT' });
  });

  it('fails with VALUE_TOO_LARGE above maxValueBytes and stores exactly at the limit', async () => {
    const { backend } = fresh({ format: bytesFormat, maxValueBytes: 1024 });
    await backend.set(CacheKey.of('at'), new CacheValue(new Uint8Array(1024)));
    assert.equal((await backend.get<Uint8Array>(CacheKey.of('at')))?.data.length, 1024);
    await rejectsWith(
      backend.set(CacheKey.of('over'), new CacheValue(new Uint8Array(1025))),
      'VALUE_TOO_LARGE',
    );
  });

  it('reports corrupt and foreign files as CORRUPT_ENTRY, and recovers on the next write', async () => {
    const { backend } = fresh();
    const key = CacheKey.of('k');
    await backend.set(key, new CacheValue({ a: 1 }));
    const path = backend.pathOf(key);
    const good = await readFile(path);

    await writeFile(path, good.subarray(0, good.length - 1)); // truncated
    const error = await rejectsWith(backend.get(key), 'CORRUPT_ENTRY');
    assert.equal(error.backend, 'fs');
    assert.equal(error.operation, 'read');
    await writeFile(path, 'not a cache entry at all'); // foreign
    await rejectsWith(backend.get(key), 'CORRUPT_ENTRY');
    await writeFile(path, ''); // empty
    await rejectsWith(backend.get(key), 'CORRUPT_ENTRY');
    const bad = Buffer.from(good);
    bad[5] = 1; // says it has an expire...
    bad.writeDoubleBE(Number.NaN, 8); // ...that is not an instant
    await writeFile(path, bad);
    await rejectsWith(backend.get(key), 'CORRUPT_ENTRY');

    await backend.set(key, new CacheValue({ a: 2 }));
    assert.deepEqual((await backend.get(key))?.data, { a: 2 });
  });

  it('reports every damaged copy of an entry as CORRUPT_ENTRY, never as a value', async () => {
    const { backend } = fresh({ format: bytesFormat });
    const key = CacheKey.of('k');
    await backend.set(key, new CacheValue(new Uint8Array(300).fill(7), Date.now() + 3_600_000, 1));
    const path = backend.pathOf(key);
    const good = await readFile(path);
    let seed = 0x2545f491;
    const random = (below: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % below;
    };
    for (let round = 0; round < 300; round++) {
      let bad = Buffer.from(good);
      const kind = round % 4;
      if (kind === 0) {
        const at = random(bad.length);
        bad[at] = (bad[at] ?? 0) ^ (1 << random(8)); // one flipped bit anywhere
      } else if (kind === 1) {
        bad = bad.subarray(0, random(bad.length)); // truncated
      } else if (kind === 2) {
        bad = Buffer.concat([bad, Buffer.alloc(1 + random(64), random(256))]); // padded
      } else {
        const at = random(bad.length - 8);
        for (let i = 0; i < 8; i++) bad[at + i] = (bad[at + i] ?? 0) ^ (1 + random(255)); // a scrambled run
      }
      await writeFile(path, bad);
      await rejectsWith(backend.get(key), 'CORRUPT_ENTRY');
    }
  });

  it('reports an entry written with another format as CODEC_MISMATCH', async () => {
    const { backend, directory } = fresh({ format: bytesFormat });
    const key = CacheKey.of('k');
    await backend.set(key, new CacheValue(new Uint8Array([1, 2, 3])));
    const reader = createFsBackend({ directory });
    await rejectsWith(reader.get(key), 'CODEC_MISMATCH');
  });

  it('answers a hash collision with a miss, not with another key', async () => {
    const { backend } = fresh();
    const mine = CacheKey.of('mine');
    const theirs = CacheKey.of('theirs');
    await backend.set(theirs, new CacheValue('theirs'));
    // Put their file where mine would be, as a collision would.
    await writeFile(backend.pathOf(mine), await readFile(backend.pathOf(theirs)));
    assert.equal(await backend.get(mine), undefined);
    assert.deepEqual(await backend.delete(mine), { kind: 'missing' });
    assert.ok((await stat(backend.pathOf(mine))).isFile());
  });

  it('sweeps expired, corrupt and stale temporary files, and nothing else', async () => {
    const { backend, clock, directory } = fresh();
    for (let i = 0; i < 5; i++)
      await backend.set(CacheKey.of(`short-${i}`), new CacheValue(i, clock.now + 100));
    for (let i = 0; i < 3; i++)
      await backend.set(CacheKey.of(`long-${i}`), new CacheValue(i, clock.now + 60_000));
    await backend.set(CacheKey.of('forever'), new CacheValue('f'));
    await writeFile(join(directory, `${'ab'.repeat(32)}.entry`), 'garbage');
    const oldTemp = join(directory, `${'cd'.repeat(32)}.1-abc.tmp`);
    await writeFile(oldTemp, 'half a write');
    const ancient = new Date(clock.now - 3_600_000);
    await utimes(oldTemp, ancient, ancient);
    await writeFile(join(directory, `${'ef'.repeat(32)}.1-abc.tmp`), 'a write in progress');
    await writeFile(join(directory, 'README.txt'), 'not ours');

    clock.now += 100;
    assert.deepEqual(await backend.sweep(), { scanned: 10, expired: 5, corrupt: 1, tempFiles: 1 });
    const left = (await readdir(directory)).sort();
    assert.equal(left.length, 4 + 2);
    assert.ok(left.includes('README.txt'));
    assert.ok(left.includes(`${'ef'.repeat(32)}.1-abc.tmp`));
    for (let i = 0; i < 3; i++) assert.equal((await backend.get(CacheKey.of(`long-${i}`)))?.data, i);
    assert.deepEqual(await backend.sweep(), { scanned: 4, expired: 0, corrupt: 0, tempFiles: 0 });
  });

  it('sweeps on a timer, reports nothing to onSweepError when all is well, and stops on close', async () => {
    const errors: CacheError[] = [];
    const { backend, clock, directory } = fresh({ sweepIntervalMs: 10, onSweepError: (e) => errors.push(e) });
    await backend.set(CacheKey.of('k'), new CacheValue('v', clock.now + 1));
    clock.now += 1;
    const deadline = Date.now() + 10_000;
    while ((await entryFiles(directory)).length > 0) {
      assert.ok(Date.now() < deadline, 'the timed sweep never removed the expired file');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await backend.close();
    assert.deepEqual(errors, []);
  });

  it('does not keep the process alive with its sweep timer', () => {
    const script = [
      "import { createFsBackend } from './src/index.ts';",
      "import { tmpdir } from 'node:os';",
      "createFsBackend({ directory: tmpdir() + '/cache-backend-fs-unref', sweepIntervalMs: 3_600_000 });",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(here, '..'),
      timeout: 20_000,
      encoding: 'utf8',
    });
    assert.equal(child.error, undefined);
    assert.equal(child.status, 0, child.stderr);
  });

  it('fails every call with CLOSED after close, and close is idempotent', async () => {
    const { backend } = fresh();
    await backend.close();
    await backend.close();
    await rejectsWith(backend.get(CacheKey.of('k')), 'CLOSED');
    await rejectsWith(backend.set(CacheKey.of('k'), new CacheValue(1)), 'CLOSED');
    await rejectsWith(backend.delete(CacheKey.of('k')), 'CLOSED');
  });

  it('serves concurrent writers of one key whole entries, never a mix', async () => {
    const { backend, directory } = fresh({ format: bytesFormat });
    const key = CacheKey.of('hot');
    const writers = Array.from({ length: 40 }, (_, i) => new Uint8Array(64 * 1024).fill(i));
    const reads: Promise<CacheValue<Uint8Array> | undefined>[] = [];
    await Promise.all(
      writers.map((data, i) => {
        reads.push(backend.get<Uint8Array>(key));
        return backend.set(key, new CacheValue(data, undefined, i));
      }),
    );
    for (const value of [...(await Promise.all(reads)), await backend.get<Uint8Array>(key)]) {
      if (value === undefined) continue;
      const fill = value.data[0] ?? -1;
      assert.equal(value.stale, fill, 'metadata and data come from the same write');
      assert.ok(value.data.every((byte) => byte === fill));
    }
    assert.deepEqual((await readdir(directory)).length, 1, 'no temporary file is left behind');
  });

  it('fails with INVALID_OPTIONS on unusable options', () => {
    assert.throws(
      () => createFsBackend({ directory: '' }),
      (e) => CacheError.is(e, 'INVALID_OPTIONS'),
    );
    assert.throws(
      () => createFsBackend({ directory: root, maxValueBytes: 0 }),
      (e) => CacheError.is(e, 'INVALID_OPTIONS'),
    );
    assert.throws(
      () => createFsBackend({ directory: root, sweepIntervalMs: -1 }),
      (e) => CacheError.is(e, 'INVALID_OPTIONS'),
    );
  });

  it('wraps file-system failures as BACKEND with the cause kept', async () => {
    const { backend, directory } = fresh();
    await writeFile(directory, 'a file where the directory should be');
    const error = await rejectsWith(backend.set(CacheKey.of('k'), new CacheValue(1)), 'BACKEND');
    assert.ok(error.cause instanceof Error);
    assert.equal(error.operation, 'write');
  });
});
