import type { StoredResponse } from './stored-response.js';
import type { UndiciCacheKey, UndiciHeaderValue } from './undici-types.js';

function sameValue(request: UndiciHeaderValue | undefined, stored: UndiciHeaderValue | null): boolean {
  if (request === undefined || stored === null) return request === undefined && stored === null;
  if (typeof request === 'string' || typeof stored === 'string') return request === stored;
  if (request.length !== stored.length) return false;
  for (let i = 0; i < request.length; i++) if (request[i] !== stored[i]) return false;
  return true;
}

/**
 * True when `stored` answers `key`: same method, and for every header its `Vary` names, the request sends the
 * value the stored one was selected by (or, like it, does not send the header).
 */
export function matches(stored: StoredResponse, key: UndiciCacheKey): boolean {
  if (stored.method !== key.method) return false;
  const vary = stored.vary;
  if (vary === undefined || vary === null) return true;
  const headers = key.headers;
  for (const name of Object.keys(vary)) {
    if (!sameValue(headers?.[name], vary[name] as UndiciHeaderValue | null)) return false;
  }
  return true;
}

/** The newest variant that answers `key` and has not reached its delete instant. */
export function findVariant(
  variants: readonly StoredResponse[],
  key: UndiciCacheKey,
  now: number,
): StoredResponse | undefined {
  for (const variant of variants) {
    if (variant.deleteAt > now && matches(variant, key)) return variant;
  }
  return undefined;
}

/**
 * The variants after storing `added` for `key`: it goes first, replacing every variant the same request would
 * have selected; variants past their delete instant are dropped, and beyond `maxVariants` the oldest go.
 */
export function withVariant(
  current: readonly StoredResponse[],
  key: UndiciCacheKey,
  added: StoredResponse,
  maxVariants: number,
  now: number,
): StoredResponse[] {
  const next = [added];
  for (const variant of current) {
    if (next.length >= maxVariants) break;
    if (variant.deleteAt > now && !matches(variant, key)) next.push(variant);
  }
  return next;
}

/** The lifetimes of an entry holding `variants`: kept until the last one's delete instant. */
export function entryInstants(variants: readonly StoredResponse[]): { expire: number; stale: number } {
  let expire = Number.NEGATIVE_INFINITY;
  let stale = Number.NEGATIVE_INFINITY;
  for (const variant of variants) {
    if (variant.deleteAt > expire) expire = variant.deleteAt;
    if (variant.staleAt > stale) stale = variant.staleAt;
  }
  return { expire, stale };
}
