/// <reference types="node" />
import { CacheError } from '@cache/core';
import type { UndiciCacheControlDirectives, UndiciGetResult, UndiciHeaderValue } from './undici-types.js';

/**
 * One stored response: a variant of a URL, told apart from its siblings by its method and the request header
 * values its `Vary` names. The data of a backend entry is an array of these, newest first.
 */
export interface StoredResponse {
  readonly method: string;
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: Readonly<Record<string, UndiciHeaderValue>>;
  readonly vary?: Readonly<Record<string, UndiciHeaderValue | null>>;
  readonly etag?: string;
  readonly cacheControlDirectives: UndiciCacheControlDirectives;
  readonly cachedAt: number;
  readonly staleAt: number;
  readonly deleteAt: number;
  /** The body bytes, exactly as received. */
  readonly body: Uint8Array;
}

/** Most variants an entry read from a store may hold; more means the entry is not ours. */
const MAX_STORED_VARIANTS = 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const EMPTY: readonly Buffer[] = Object.freeze([]);

function corrupt(reason: string): CacheError {
  return new CacheError('CORRUPT_ENTRY', `stored HTTP response is malformed: ${reason}`, {
    operation: 'decode',
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkHeaderValue(value: unknown, name: string, nullable: boolean): void {
  if (typeof value === 'string') {
    if (!FIELD_VALUE.test(value)) throw corrupt(`header "${name}" holds a forbidden character`);
    return;
  }
  if (value === null && nullable) return;
  if (!Array.isArray(value)) throw corrupt(`header "${name}" is neither a string nor a list`);
  for (const item of value) {
    if (typeof item !== 'string' || !FIELD_VALUE.test(item)) {
      throw corrupt(`header "${name}" holds a value that is not a valid field value`);
    }
  }
}

function checkHeaders(value: unknown, what: string, nullable: boolean): void {
  if (!isPlainObject(value)) throw corrupt(`${what} is not an object`);
  for (const name of Object.keys(value)) {
    if (!TOKEN.test(name)) throw corrupt(`${what} has an invalid name`);
    checkHeaderValue(value[name], name, nullable);
  }
}

function checkDirectives(value: unknown): void {
  if (!isPlainObject(value)) throw corrupt('cacheControlDirectives is not an object');
  for (const name of Object.keys(value)) {
    const directive = value[name];
    if (directive === true || (typeof directive === 'number' && Number.isFinite(directive))) continue;
    if (Array.isArray(directive) && directive.every((item) => typeof item === 'string')) continue;
    throw corrupt(`directive "${name}" has a value of the wrong type`);
  }
}

function checkInstant(value: unknown, name: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw corrupt(`${name} is not a finite number`);
}

function checkResponse(value: unknown): asserts value is StoredResponse {
  if (!isPlainObject(value)) throw corrupt('a variant is not an object');
  const { method, statusCode, statusMessage, etag, vary, body } = value;
  if (typeof method !== 'string' || !TOKEN.test(method.toLowerCase())) throw corrupt('method is not a token');
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    throw corrupt('statusCode is not an integer from 100 to 599');
  }
  if (typeof statusMessage !== 'string' || !FIELD_VALUE.test(statusMessage)) {
    throw corrupt('statusMessage is not a valid reason phrase');
  }
  checkHeaders(value.headers, 'headers', false);
  if (vary !== undefined && vary !== null) checkHeaders(vary, 'vary', true);
  if (etag !== undefined && (typeof etag !== 'string' || !FIELD_VALUE.test(etag))) {
    throw corrupt('etag is not a valid field value');
  }
  checkDirectives(value.cacheControlDirectives);
  checkInstant(value.cachedAt, 'cachedAt');
  checkInstant(value.staleAt, 'staleAt');
  checkInstant(value.deleteAt, 'deleteAt');
  if (!(body instanceof Uint8Array)) throw corrupt('body is not bytes');
  // Decoded entries are ours to adjust: a Buffer view once here, so a hit hands the body out as it is.
  if (!Buffer.isBuffer(body)) value.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * The variants of an entry, after checking that `data` has the layout this store writes. Entries read from a
 * shared store are untrusted: anything else fails with `CORRUPT_ENTRY`. Objects in `trusted` (written or
 * checked before, as an in-process backend hands back the very objects it was given) are not checked again.
 */
export function readStoredResponses(data: unknown, trusted: WeakSet<object>): readonly StoredResponse[] {
  if (!Array.isArray(data)) throw corrupt('the entry is not a list of variants');
  if (trusted.has(data)) return data as StoredResponse[];
  if (data.length > MAX_STORED_VARIANTS) throw corrupt(`more than ${MAX_STORED_VARIANTS} variants`);
  for (const item of data) checkResponse(item);
  trusted.add(data);
  return data as StoredResponse[];
}

/**
 * What undici gets back for a stored response: the same fields, the body as one buffer (none when empty). The
 * object always has the same shape (`vary` and `etag` present, possibly undefined), as undici's own store does.
 */
export function toGetResult(stored: StoredResponse): UndiciGetResult {
  return {
    statusCode: stored.statusCode,
    statusMessage: stored.statusMessage,
    headers: stored.headers as Record<string, UndiciHeaderValue>,
    vary: (stored.vary ?? undefined) as Record<string, UndiciHeaderValue | null>,
    etag: stored.etag as string,
    // Bodies are Buffers: written from undici's chunks, or made one by the check of a decoded entry.
    body: stored.body.byteLength === 0 ? (EMPTY as Buffer[]) : [stored.body as Buffer],
    cacheControlDirectives: stored.cacheControlDirectives,
    cachedAt: stored.cachedAt,
    staleAt: stored.staleAt,
    deleteAt: stored.deleteAt,
  };
}
