import { describe, expect, it } from 'vitest';
import {
  type Backend,
  bitcode,
  CacheError,
  CacheKey,
  CacheValue,
  type Compressor,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DeleteStatus,
  decodeValue,
  encodeValue,
  type Format,
  type KeyFormat,
  passthrough,
  type ReadInfo,
  TypedBackend,
  toCacheBackend,
  urlEncoded,
} from '../src/index.js';
import { cacheErrorOf, thrown } from './helpers/thrown.js';

const NOW = 1_700_000_000_000;

/** JSON as a value format. `JSON.stringify` throws on BigInt and cycles, `JSON.parse` on foreign bytes. */
const json: Format = {
  id: 'json',
  serialize(value) {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('value has no JSON form');
    return new TextEncoder().encode(text);
  },
  deserialize(bytes) {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  },
};

/**
 * Run-length encoding as (count, byte) pairs: a real, tiny compressor with a size limit on compress (to make it
 * fail on demand) and the output limit on decompress. Remembers the limits it was given.
 */
class RunLength implements Compressor {
  readonly id = 'rle';
  readonly limits: number[] = [];
  constructor(readonly maxInput = Number.POSITIVE_INFINITY) {}

  compress(bytes: Uint8Array): Uint8Array {
    if (bytes.length > this.maxInput)
      throw new RangeError(`input of ${bytes.length} bytes is over ${this.maxInput}`);
    const out: number[] = [];
    for (let i = 0; i < bytes.length; ) {
      let run = 1;
      while (i + run < bytes.length && bytes[i + run] === bytes[i] && run < 255) run++;
      out.push(run, bytes[i]!);
      i += run;
    }
    return Uint8Array.from(out);
  }

  decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
    this.limits.push(maxOutputBytes);
    if (bytes.length % 2 !== 0) throw new CacheError('DECOMPRESS', 'odd run-length input');
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i += 2) {
      if (out.length + bytes[i]! > maxOutputBytes) {
        throw new CacheError('DECOMPRESS_LIMIT', `output over ${maxOutputBytes} bytes`);
      }
      for (let n = 0; n < bytes[i]!; n++) out.push(bytes[i + 1]!);
    }
    return Uint8Array.from(out);
  }
}

/**
 * A raw backend over a Map, keyed by the key format's bytes. It deliberately does not check expiry on read,
 * so the tests see what the typed layer itself guarantees.
 */
class MapBackend implements Backend {
  readonly label = 'map';
  readonly entries = new Map<string, CacheValue<Uint8Array>>();
  closed = false;

  constructor(
    readonly valueFormat: Format = json,
    readonly compressor: Compressor = passthrough,
    readonly keyFormat: KeyFormat = urlEncoded,
  ) {}

  storeKey(key: CacheKey): string {
    return Array.from(this.keyFormat.encode(key), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    return this.entries.get(this.storeKey(key));
  }

  async write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    this.entries.set(this.storeKey(key), value);
  }

  async remove(key: CacheKey): Promise<DeleteStatus> {
    return this.entries.delete(this.storeKey(key)) ? DeleteStatus.deleted(1) : DeleteStatus.missing;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const key = CacheKey.from({ method: 'GET', path: '/users' }, { prefix: 'api', version: 1 });

function setup(raw = new MapBackend(), maxDecompressedBytes?: number) {
  let now = NOW;
  const options =
    maxDecompressedBytes === undefined ? { now: () => now } : { now: () => now, maxDecompressedBytes };
  const cache = toCacheBackend(raw, options);
  return { raw, cache, advance: (ms: number) => (now += ms) };
}

describe('toCacheBackend', () => {
  it('round-trips data with its expire and stale instants', async () => {
    const { cache } = setup();
    await cache.set(key, new CacheValue({ users: [1, 2], name: 'é😀' }, NOW + 60_000, NOW + 10_000));
    const value = await cache.get<{ users: number[] }>(key);
    expect(value?.data).toEqual({ users: [1, 2], name: 'é😀' });
    expect(value?.expire).toBe(NOW + 60_000);
    expect(value?.stale).toBe(NOW + 10_000);
  });

  it('stores compress(serialize(data)) under the key format bytes', async () => {
    const raw = new MapBackend(json, new RunLength(), bitcode);
    const { cache } = setup(raw);
    await cache.set(key, new CacheValue('aaaa'));
    const stored = raw.entries.get(raw.storeKey(key));
    expect(stored?.data).toEqual(Uint8Array.from([1, 0x22, 4, 0x61, 1, 0x22]));
    expect(stored?.expire).toBeUndefined();
    expect((await cache.get(key))?.data).toBe('aaaa');
  });

  it('reports the label as source on a hit and leaves info alone on a miss', async () => {
    const { cache } = setup();
    const info: ReadInfo = {};
    expect(await cache.get(key, info)).toBeUndefined();
    expect(info.source).toBeUndefined();
    await cache.set(key, new CacheValue(1));
    await cache.get(key, info);
    expect(info.source).toBe('map');
    expect(cache.label).toBe('map');
  });

  it('never returns an expired value, even when the raw backend does', async () => {
    const { raw, cache, advance } = setup();
    await cache.set(key, CacheValue.fromTtl('x', { ttlMs: 1500 }, NOW));
    advance(1499);
    expect((await cache.get(key))?.data).toBe('x');
    advance(1);
    expect(raw.entries.size).toBe(1);
    expect(await cache.get(key)).toBeUndefined();
  });

  it('removes the entry when set is given an already expired value', async () => {
    const { raw, cache } = setup();
    await cache.set(key, new CacheValue('old'));
    await cache.set(key, new CacheValue('new', NOW));
    expect(raw.entries.size).toBe(0);
    expect(await cache.get(key)).toBeUndefined();
  });

  it('replaces the whole entry, metadata included', async () => {
    const { cache } = setup();
    await cache.set(key, new CacheValue('a', NOW + 1000, NOW + 500));
    await cache.set(key, new CacheValue('b'));
    const value = await cache.get(key);
    expect(value).toMatchObject({ data: 'b', expire: undefined, stale: undefined });
  });

  it('deletes through the raw backend and reports what it removed', async () => {
    const { cache } = setup();
    await cache.set(key, new CacheValue(1));
    expect(await cache.delete(key)).toEqual(DeleteStatus.deleted(1));
    expect(await cache.delete(key)).toBe(DeleteStatus.missing);
  });

  it('closes the raw backend', async () => {
    const { raw, cache } = setup();
    await cache.close?.();
    expect(raw.closed).toBe(true);
  });

  describe('failures become CacheErrors with code, key, backend and operation', () => {
    it('SERIALIZE when the format cannot write the data', async () => {
      const { cache } = setup();
      const error = await thrown(() => cache.set(key, new CacheValue({ big: 1n })));
      expect(CacheError.is(error, 'SERIALIZE')).toBe(true);
      expect(error).toMatchObject({ key: key.canonical, backend: 'map', operation: 'set' });
      expect((error as CacheError).cause).toBeInstanceOf(TypeError);
    });

    it('COMPRESS when the compressor fails', async () => {
      const { cache } = setup(new MapBackend(json, new RunLength(4)));
      const error = await thrown(() => cache.set(key, new CacheValue('too long for it')));
      expect(CacheError.is(error, 'COMPRESS')).toBe(true);
      expect(error).toMatchObject({ key: key.canonical, backend: 'map', operation: 'set' });
      expect((error as CacheError).cause).toBeInstanceOf(RangeError);
    });

    it('DECOMPRESS when stored bytes are corrupt', async () => {
      const raw = new MapBackend(json, new RunLength());
      const { cache } = setup(raw);
      await raw.write(key, new CacheValue(Uint8Array.from([1, 2, 3])));
      const error = await thrown(() => cache.get(key));
      expect(CacheError.is(error, 'DECOMPRESS')).toBe(true);
      expect(error).toMatchObject({ key: key.canonical, backend: 'map', operation: 'get' });
    });

    it('DECOMPRESS_LIMIT kept as it is, with the key and backend filled in', async () => {
      const raw = new MapBackend(json, new RunLength());
      const { cache } = setup(raw, 10);
      await cache.set(key, new CacheValue('x'.repeat(20)));
      const error = await thrown(() => cache.get(key));
      expect(CacheError.is(error, 'DECOMPRESS_LIMIT')).toBe(true);
      expect(error).toMatchObject({ key: key.canonical, backend: 'map', operation: 'get' });
    });

    it('DESERIALIZE when the bytes are not the format', async () => {
      const raw = new MapBackend();
      const { cache } = setup(raw);
      await raw.write(key, new CacheValue(Uint8Array.from([0xff, 0x00])));
      const error = await thrown(() => cache.get(key));
      expect(CacheError.is(error, 'DESERIALIZE')).toBe(true);
      expect(error).toMatchObject({ key: key.canonical, backend: 'map', operation: 'get' });
    });
  });

  describe('maxDecompressedBytes', () => {
    it('passes 64 MiB to the compressor by default and the configured limit otherwise', async () => {
      const byDefault = new RunLength();
      const a = setup(new MapBackend(json, byDefault));
      await a.cache.set(key, new CacheValue('x'));
      await a.cache.get(key);
      expect(byDefault.limits).toEqual([DEFAULT_MAX_DECOMPRESSED_BYTES]);
      expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBe(64 * 1024 * 1024);

      const configured = new RunLength();
      const b = setup(new MapBackend(json, configured), 1234);
      await b.cache.set(key, new CacheValue('x'));
      await b.cache.get(key);
      expect(configured.limits).toEqual([1234]);
    });

    /** A JSON format that counts the payloads it was asked to deserialize. */
    function countingJson(): Format & { calls: number } {
      const format = {
        ...json,
        calls: 0,
        deserialize(bytes: Uint8Array) {
          format.calls++;
          return json.deserialize(bytes);
        },
      };
      return format;
    }

    it('holds without a compressor: a payload over the limit is DECOMPRESS_LIMIT, never deserialized', async () => {
      const format = countingJson();
      const raw = new MapBackend(format, passthrough);
      const { cache } = setup(raw, 16);
      await cache.set(key, new CacheValue('x'.repeat(14)));
      expect((await cache.get(key))?.data).toBe('x'.repeat(14));
      await cache.set(key, new CacheValue('x'.repeat(15)));
      const error = await thrown(() => cache.get(key));
      expect(CacheError.is(error, 'DECOMPRESS_LIMIT')).toBe(true);
      expect(error).toMatchObject({ key: key.canonical, backend: 'map', operation: 'get' });
      expect(format.calls).toBe(1);
    });

    it('passthrough.decompress itself refuses bytes over its limit', () => {
      expect(passthrough.decompress(new Uint8Array(4), 4)).toHaveLength(4);
      cacheErrorOf(() => passthrough.decompress(new Uint8Array(5), 4), 'DECOMPRESS_LIMIT');
    });

    it('holds with a third-party compressor that ignores the limit', async () => {
      const ignoresLimit: Compressor = {
        id: 'careless',
        compress: (bytes) => bytes,
        decompress: (bytes) => Uint8Array.from([...bytes, ...bytes]),
      };
      const format = countingJson();
      const raw = new MapBackend(format, ignoresLimit);
      const { cache } = setup(raw, 16);
      await raw.write(key, new CacheValue(new TextEncoder().encode('"xxxxxxx"')));
      const error = await thrown(() => cache.get(key));
      expect(CacheError.is(error, 'DECOMPRESS_LIMIT')).toBe(true);
      expect(format.calls).toBe(0);
    });

    it.each([0, -1, 1.5, Number.NaN, 2 ** 60])('rejects %s', (max) => {
      let caught: unknown;
      try {
        toCacheBackend(new MapBackend(), { maxDecompressedBytes: max });
      } catch (error) {
        caught = error;
      }
      expect(CacheError.is(caught, 'INVALID_OPTIONS')).toBe(true);
    });
  });
});

describe('TypedBackend subclasses', () => {
  class Store extends TypedBackend {
    readonly label = 'store';
    readonly #raw = new MapBackend();
    protected get raw(): Backend {
      return this.#raw;
    }
  }

  it('get the typed methods from their raw backend', async () => {
    const store = new Store();
    const info: ReadInfo = {};
    await store.set(key, new CacheValue([1, 2, 3]));
    expect((await store.get(key, info))?.data).toEqual([1, 2, 3]);
    expect(info.source).toBe('store');
    expect(await store.delete(key)).toEqual(DeleteStatus.deleted(1));
  });
});

describe('encodeValue and decodeValue', () => {
  it('are inverse, keep the metadata, and apply format then compressor', () => {
    const raw = new MapBackend(json, new RunLength());
    const value = new CacheValue({ a: 'bbb' }, NOW + 5, NOW + 1);
    const encoded = encodeValue(raw, key, value);
    expect(encoded.data).toEqual(new RunLength().compress(json.serialize({ a: 'bbb' })));
    expect(encoded).toMatchObject({ expire: NOW + 5, stale: NOW + 1 });
    const decoded = decodeValue(raw, key, encoded);
    expect(decoded).toMatchObject({ data: { a: 'bbb' }, expire: NOW + 5, stale: NOW + 1 });
  });
});
