import type { CacheKey, CacheValue } from '@cache/core';

/**
 * Thrown when a backend breaks the contract. The message names the case, the key and what was expected against
 * what came back, so a report is readable in any runner without a diff view.
 */
export class ConformanceFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConformanceFailure';
  }
}

const MAX_SHOWN = 120;

function clip(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${text.length} chars)` : text;
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** A short, unambiguous rendering of any value for failure messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'function') return 'a function';
  if (isBytes(value)) {
    const head = Array.from(value.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return `Uint8Array(${value.length}) [${head}${value.length > 16 ? ' …' : ''}]`;
  }
  try {
    return clip(JSON.stringify(value) ?? String(value));
  } catch {
    return clip(String(value));
  }
}

/** The key as it appears in failure messages. */
export function showKey(key: CacheKey): string {
  return clip(key.canonical);
}

/** Fails with `message`. */
export function fail(message: string): never {
  throw new ConformanceFailure(message);
}

/** Fails unless `actual` is `expected` (`Object.is`). */
export function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (!Object.is(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

/** Fails unless `actual` is within `tolerance` of `expected`. */
export function expectWithin(actual: unknown, expected: number, tolerance: number, what: string): void {
  if (typeof actual !== 'number' || Math.abs(actual - expected) > tolerance) {
    const off = typeof actual === 'number' ? ` (off by ${actual - expected} ms)` : '';
    fail(`${what}: expected ${expected} ± ${tolerance}, got ${show(actual)}${off}`);
  }
}

function plainKeys(value: object): string[] {
  return Object.keys(value).sort();
}

function bytesDifference(actual: unknown, expected: Uint8Array, path: string): string | undefined {
  if (!isBytes(actual))
    return `${path}: expected a Uint8Array of ${expected.length} bytes, got ${show(actual)}`;
  if (actual.length !== expected.length) {
    return `${path}: expected ${expected.length} bytes, got ${actual.length}`;
  }
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      const hex = (b: number | undefined) => `0x${(b ?? 0).toString(16).padStart(2, '0')}`;
      return `${path}: byte ${i} differs: expected ${hex(expected[i])}, got ${hex(actual[i])}`;
    }
  }
  return undefined;
}

/**
 * The first place where `actual` differs from `expected`, or `undefined` when they are deeply equal. Compares
 * primitives with `Object.is`, arrays by index, bytes by value, and plain objects by their own keys in any order.
 */
export function difference(actual: unknown, expected: unknown, path = 'data'): string | undefined {
  if (isBytes(expected)) return bytesDifference(actual, expected, path);
  if (expected === null || typeof expected !== 'object') {
    return Object.is(actual, expected)
      ? undefined
      : `${path}: expected ${show(expected)}, got ${show(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${show(actual)}`;
    if (actual.length !== expected.length) {
      return `${path}: expected ${expected.length} items, got ${actual.length}: ${show(actual)}`;
    }
    for (let i = 0; i < expected.length; i++) {
      const found = difference(actual[i], expected[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual) || isBytes(actual)) {
    return `${path}: expected an object, got ${show(actual)}`;
  }
  const expectedKeys = plainKeys(expected);
  const actualKeys = plainKeys(actual);
  if (expectedKeys.join('\u0000') !== actualKeys.join('\u0000')) {
    return `${path}: expected keys ${show(expectedKeys)}, got ${show(actualKeys)}`;
  }
  for (const name of expectedKeys) {
    const found = difference(
      (actual as Record<string, unknown>)[name],
      (expected as Record<string, unknown>)[name],
      `${path}.${name}`,
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Fails unless `actual` deeply equals `expected` (see {@link difference}). */
export function expectEqual(actual: unknown, expected: unknown, what: string, path?: string): void {
  const found = difference(actual, expected, path);
  if (found !== undefined) fail(`${what}: ${found}`);
}

/** Fails unless `value` is a hit, i.e. a cache value object; returns it typed. */
export function expectHit<T>(value: CacheValue<T> | undefined, what: string): CacheValue<T> {
  if (value === undefined || value === null || typeof value !== 'object' || !('data' in value)) {
    fail(`${what}: expected a hit, got ${show(value)}`);
  }
  return value;
}

/** Fails unless `value` is a miss (exactly `undefined`, not `null`). */
export function expectMiss(value: unknown, what: string): void {
  if (value !== undefined) {
    const data = value !== null && typeof value === 'object' && 'data' in value ? value.data : value;
    fail(`${what}: expected a miss (undefined), got a value with data ${show(data)}`);
  }
}
