// A shared Redis can hold anything at our keys. Whatever it holds, a read gives the right value, a miss or a typed
// error: never a crash, a hang or a wrong value.
import { CacheError, CacheKey, CacheValue } from '@cache/core';
import { gzip } from '@cache/compress';
import { json } from '@cache/formats';
import { afterAll, describe, expect, it } from 'vitest';
import { rawClient, singleBackend, uniqueNamespace } from './helpers.js';

const namespace = uniqueNamespace('hostile');
const raw = await rawClient();
const redis = singleBackend({ namespace });
afterAll(async () => {
  await redis.clear();
  await redis.close();
  await raw.close();
});

let counter = 0;
function slot(): { key: CacheKey; redisKey: Buffer } {
  const key = CacheKey.of('hostile', String(counter++));
  return { key, redisKey: redis.storeKey(key) };
}

async function readError(backend = redis, key: CacheKey): Promise<CacheError> {
  const error = await backend.get(key).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!CacheError.is(error)) throw new Error(`expected a CacheError, got ${String(error)}`);
  expect(error.backend).toBe('redis');
  expect(error.key).toBe(key.canonical);
  return error;
}

describe('foreign data at an entry key', () => {
  it('a string key: CORRUPT_ENTRY on read (WRONGTYPE), and a write replaces it', async () => {
    const { key, redisKey } = slot();
    await raw.set(redisKey, 'not a hash');
    expect((await readError(redis, key)).code).toBe('CORRUPT_ENTRY');
    await redis.set(key, new CacheValue('mine'));
    expect((await redis.get(key))?.data).toBe('mine');
  });

  it('a list key: CORRUPT_ENTRY', async () => {
    const { key, redisKey } = slot();
    await raw.rPush(redisKey, ['a', 'b']);
    expect((await readError(redis, key)).code).toBe('CORRUPT_ENTRY');
  });

  it('a hash with metadata but no d: CORRUPT_ENTRY', async () => {
    const { key, redisKey } = slot();
    await raw.hSet(redisKey, 's', String(Date.now()));
    expect((await readError(redis, key)).code).toBe('CORRUPT_ENTRY');
  });

  it('a hash of someone else (none of our fields): a miss', async () => {
    const { key, redisKey } = slot();
    await raw.hSet(redisKey, { name: 'x', age: '3' });
    expect(await redis.get(key)).toBeUndefined();
  });

  for (const s of ['soon', '12.5', '1e12', '99999999999999999999', '', ' 1']) {
    it(`a non-integer stale field ${JSON.stringify(s)}: CORRUPT_ENTRY`, async () => {
      const { key, redisKey } = slot();
      await raw.hSet(redisKey, { d: Buffer.from([0xf6]), s });
      expect((await readError(redis, key)).code).toBe('CORRUPT_ENTRY');
    });
  }

  it('a non-integer e field: CORRUPT_ENTRY', async () => {
    const { key, redisKey } = slot();
    await raw.hSet(redisKey, { d: Buffer.from([0xf6]), e: 'later' });
    await raw.pExpire(redisKey, 60_000);
    expect((await readError(redis, key)).code).toBe('CORRUPT_ENTRY');
  });

  it('garbage payload: DESERIALIZE; garbage under gzip: DECOMPRESS', async () => {
    const { key, redisKey } = slot();
    await raw.hSet(redisKey, 'd', Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37]));
    expect((await readError(redis, key)).code).toBe('DESERIALIZE');
    const zipped = singleBackend({ namespace, compressor: gzip() });
    try {
      expect((await readError(zipped, key)).code).toBe('DECOMPRESS');
    } finally {
      await zipped.close();
    }
  });

  it('a payload over maxDecompressedBytes without a compressor: DECOMPRESS_LIMIT, and a small one still reads', async () => {
    const { key, redisKey } = slot();
    const bounded = singleBackend({ namespace, valueFormat: json, maxDecompressedBytes: 1024 });
    try {
      // Planted by another program (no codec tag): a JSON array just over the limit.
      await raw.hSet(redisKey, 'd', JSON.stringify(Array.from({ length: 600 }, (_, i) => i % 10)));
      expect((await readError(bounded, key)).code).toBe('DECOMPRESS_LIMIT');
      await raw.hSet(redisKey, 'd', '[1,2,3]');
      expect((await bounded.get(key))?.data).toEqual([1, 2, 3]);
    } finally {
      await bounded.close();
    }
  });

  it('an entry written with another format: CODEC_MISMATCH, naming both codecs', async () => {
    const { key } = slot();
    const jsonWriter = singleBackend({ namespace, valueFormat: json });
    try {
      await jsonWriter.set(key, new CacheValue({ a: 1 }));
      const error = await readError(redis, key);
      expect(error.code).toBe('CODEC_MISMATCH');
      expect(error.message).toContain('json/none');
      expect(error.message).toContain('cbor/none');
      expect((await jsonWriter.get(key))?.data).toEqual({ a: 1 });
    } finally {
      await jsonWriter.close();
    }
  });

  it('an empty payload: DESERIALIZE, not an empty value', async () => {
    const { key, redisKey } = slot();
    await raw.hSet(redisKey, 'd', '');
    expect((await readError(redis, key)).code).toBe('DESERIALIZE');
  });
});
