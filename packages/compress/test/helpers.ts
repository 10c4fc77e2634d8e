import { CacheError, type CacheErrorCode } from '@cache/core';
import { expect } from 'vitest';

/** A JSON document of about `bytes` bytes, like the values a cache holds. */
export function jsonDocument(bytes: number): Uint8Array {
  const items: unknown[] = [];
  let text = '[]';
  for (let i = 0; text.length < bytes; i++) {
    items.push({
      id: i,
      name: `user ${i}`,
      email: `user${i}@example.com`,
      active: i % 3 === 0,
      score: i * 7.25,
    });
    text = JSON.stringify(items);
  }
  return new TextEncoder().encode(text.slice(0, Math.max(2, bytes)));
}

/** Pseudo-random bytes, the same for the same seed. */
export function randomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Asserts that `run` throws a CacheError with `code` and returns it. */
export function expectCacheError(run: () => unknown, code: CacheErrorCode): CacheError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a CacheError ${code}`).toBeInstanceOf(CacheError);
  expect((thrown as CacheError).code).toBe(code);
  return thrown as CacheError;
}

/** True when the array is a plain view over its whole buffer, so storing it keeps nothing else alive. */
export function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/** The arrays one after the other. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Asserts equal bytes; fast for large arrays, with the usual diff when they differ. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const same =
    actual.length === expected.length &&
    Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected);
  if (!same) expect(actual).toEqual(expected);
}

const WORDS = [
  'alpha',
  'bravo',
  'cache',
  'delta',
  'ember',
  'fjord',
  'gamma',
  'harbor',
  'index',
  'jolt',
  'kite',
];

/**
 * Sample `index` of a family of similar JSON documents of about `bytes` bytes (user profiles with an order list),
 * the kind of small values a zstd dictionary is trained on. Deterministic.
 */
export function sampleDocument(index: number, bytes = 1024): Uint8Array {
  let state = (index + 1) * 2_654_435_761;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const word = (): string => WORDS[Math.floor(random() * WORDS.length)]!;
  const profile = {
    id: index,
    name: `${word()} ${word()}`,
    email: `user${index}@example.test`,
    active: random() < 0.7,
    score: Math.round(random() * 10_000) / 100,
    createdAt: new Date(1_700_000_000_000 + Math.floor(random() * 1e10)).toISOString(),
    tags: [word(), word(), word()],
    address: {
      street: `${Math.floor(random() * 999)} ${word()} street`,
      city: word(),
      zip: '75001',
      country: 'FR',
    },
    orders: [] as unknown[],
  };
  while (JSON.stringify(profile).length < bytes) {
    profile.orders.push({
      sku: `sku-${Math.floor(random() * 1e6)}`,
      quantity: 1 + Math.floor(random() * 9),
      price: Math.round(random() * 100_000) / 100,
      note: `${word()} ${word()}`,
    });
  }
  return new TextEncoder().encode(JSON.stringify(profile));
}
