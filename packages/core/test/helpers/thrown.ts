import { CacheError, type CacheErrorCode } from '../../src/index.js';

/** The error `run` throws (synchronously or by rejecting); fails the test when it does not throw. */
export async function thrown(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but none was thrown');
}

/** The error `run` throws synchronously, checked to be a CacheError with `code`. */
export function cacheErrorOf(run: () => unknown, code: CacheErrorCode): CacheError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  if (!CacheError.is(caught, code)) {
    throw new Error(
      `expected CacheError ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`,
    );
  }
  return caught;
}
