import {
  CacheError,
  CacheKey,
  CacheValue,
  compose,
  DeleteStatus,
  getMany,
  type ReadInfo,
  setMany,
} from '@cache/core';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../src/index.js';

const k = (id: string): CacheKey => CacheKey.of('batch', id);

describe('memory batch operations', () => {
  it('getMany answers synchronously, in key order, duplicates in every position, sources set on hits', () => {
    const memory = memoryBackend({ maxEntries: 100 });
    memory.set(k('a'), new CacheValue('A'));
    memory.set(k('b'), new CacheValue(new Uint8Array([0, 255, 1])));
    const infos: ReadInfo[] = [{}, {}, {}, {}];
    const results = memory.getMany([k('b'), k('none'), k('a'), k('b')], infos);
    expect(results.map((r) => (r instanceof CacheValue ? r.data : r))).toEqual([
      new Uint8Array([0, 255, 1]),
      undefined,
      'A',
      new Uint8Array([0, 255, 1]),
    ]);
    expect(infos.map((i) => i.source)).toEqual(['memory', undefined, 'memory', 'memory']);
    // Through the helper too: still synchronous (no promise to await).
    expect(Array.isArray(getMany(memory, [k('a')]))).toBe(true);
  });

  it('an expired entry is a miss in a batch', () => {
    let now = 1_000;
    const memory = memoryBackend({ maxEntries: 100, now: () => now });
    memory.setMany([
      { key: k('short'), value: new CacheValue('S', 2_000) },
      { key: k('long'), value: new CacheValue('L', 9_000) },
    ]);
    now = 5_000;
    expect(
      memory.getMany([k('short'), k('long')]).map((r) => (r as CacheValue<string> | undefined)?.data),
    ).toEqual([undefined, 'L']);
  });

  it('setMany: last entry of a key wins; a value that cannot be cloned fails in its positions only', () => {
    const memory = memoryBackend({ maxEntries: 100, clone: true });
    const outcomes = memory.setMany<unknown>([
      { key: k('a'), value: new CacheValue(1) },
      { key: k('f'), value: new CacheValue(() => 1) },
      { key: k('a'), value: new CacheValue(2) },
      { key: k('f'), value: new CacheValue(() => 2) },
    ]);
    expect(outcomes[0]).toBeUndefined();
    expect(outcomes[2]).toBeUndefined();
    expect(CacheError.is(outcomes[1], 'INVALID_VALUE')).toBe(true);
    expect(CacheError.is(outcomes[3], 'INVALID_VALUE')).toBe(true);
    expect((memory.get(k('a')) as CacheValue<number>).data).toBe(2);
    expect(memory.get(k('f'))).toBeUndefined();
  });

  it('setMany: a failure followed by a successful write of the same key reports success in both positions', async () => {
    const memory = memoryBackend({ maxEntries: 100, clone: true });
    expect(
      await setMany<unknown>(memory, [
        { key: k('a'), value: new CacheValue(() => 1) },
        { key: k('a'), value: new CacheValue('ok') },
      ]),
    ).toEqual([undefined, undefined]);
  });

  it('under a sequential composition, setMany reaches both memory tiers (every position answered)', async () => {
    const near = memoryBackend({ maxEntries: 100, label: 'near' });
    const far = memoryBackend({ maxEntries: 100, label: 'far' });
    const tiers = compose(near, far, { writePolicy: 'sequential' });
    const outcomes = await setMany(tiers, [
      { key: k('a'), value: new CacheValue(1) },
      { key: k('b'), value: new CacheValue(2) },
    ]);
    expect(outcomes).toEqual([undefined, undefined]);
    expect(Object.keys(outcomes)).toEqual(['0', '1']);
    expect(far.getMany([k('a'), k('b')]).map((r) => (r as CacheValue<number>).data)).toEqual([1, 2]);
  });

  it('deleteMany: sequential semantics for a repeated key', () => {
    const memory = memoryBackend({ maxEntries: 100 });
    memory.setMany([
      { key: k('a'), value: new CacheValue(1) },
      { key: k('b'), value: new CacheValue(2) },
    ]);
    expect(memory.deleteMany([k('a'), k('a'), k('c'), k('b')])).toEqual([
      DeleteStatus.deleted(1),
      DeleteStatus.missing,
      DeleteStatus.missing,
      DeleteStatus.deleted(1),
    ]);
    expect(memory.size).toBe(0);
  });

  it('a composition invalidatePrefix drops only that prefix from memory L1 and keeps L2', async () => {
    const near = memoryBackend({ maxEntries: 100, label: 'near' });
    const far = memoryBackend({ maxEntries: 100, label: 'far' });
    const tiers = compose(near, far);
    const one = new CacheKey('tenant:1', 0, [{ name: 'id', value: 'x' }]);
    const two = new CacheKey('tenant:2', 0, [{ name: 'id', value: 'x' }]);
    await setMany(tiers, [
      { key: one, value: new CacheValue(1) },
      { key: two, value: new CacheValue(2) },
    ]);
    await tiers.invalidatePrefix('tenant:1');
    expect(near.get(one)).toBeUndefined();
    expect((near.get(two) as CacheValue<number>).data).toBe(2);
    expect((far.get(one) as CacheValue<number>).data).toBe(1);
  });
});
