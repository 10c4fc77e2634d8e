import { CacheError, type CacheErrorCode } from '@cache/core';
import { expect } from 'vitest';

/** Asserts that `run` throws a CacheError with `code` and returns it. */
export function expectCacheError(run: () => unknown, code: CacheErrorCode): CacheError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a CacheError ${code}`).toBeInstanceOf(CacheError);
  expect((thrown as CacheError).code, (thrown as Error).message).toBe(code);
  return thrown as CacheError;
}

/** Bytes from hex, spaces ignored: `hex('d9 d9 f7 01')`. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}
