import { getHeader, type HeaderList, type RequestHeaders } from './headers.js';
import { parseHttpDate } from './http-date.js';

/** Fields of a 304 that never replace the stored ones (RFC 9111 section 3.2): they describe the stored body. */
const NOT_UPDATED = new Set([
  'content-length',
  'content-encoding',
  'content-range',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);

function opaque(tag: string): string {
  const t = tag.trim();
  return t.startsWith('W/') ? t.slice(2) : t;
}

/** Splits an entity-tag list (`"a", W/"b"`), keeping commas inside quotes. */
function entityTags(list: string): string[] {
  const tags: string[] = [];
  for (const m of list.matchAll(/(?:W\/)?"[^"]*"|\*/g)) tags.push(m[0]);
  return tags;
}

/**
 * True when the client's conditional request is satisfied by a stored response with `headers`, so the cache
 * answers 304 (RFC 9110 section 13.1.2 weak comparison for `If-None-Match`; `If-Modified-Since` only without it).
 */
export function notModified(request: RequestHeaders, headers: HeaderList): boolean {
  const inm = request.get('if-none-match');
  if (inm !== null) {
    const etag = getHeader(headers, 'etag');
    if (etag === undefined) return false;
    return entityTags(inm).some((tag) => tag === '*' || opaque(tag) === opaque(etag));
  }
  const ims = request.get('if-modified-since');
  if (ims !== null) {
    const since = parseHttpDate(ims);
    // Without Last-Modified, the stored response's Date is the latest it can have changed (RFC 9110 section 13.1.3).
    const lastModified = parseHttpDate(getHeader(headers, 'last-modified') ?? getHeader(headers, 'date'));
    if (since === undefined || lastModified === undefined) return false;
    return lastModified <= since;
  }
  return false;
}

/** True when the request carries a condition the cache evaluates itself. */
export function isConditional(request: RequestHeaders): boolean {
  return request.get('if-none-match') !== null || request.get('if-modified-since') !== null;
}

/** The validators to send when revalidating a stored response (its ETag, else its Last-Modified). */
export function validators(headers: HeaderList): Record<string, string> {
  const out: Record<string, string> = {};
  const etag = getHeader(headers, 'etag');
  if (etag !== undefined) out['if-none-match'] = etag;
  const lastModified = getHeader(headers, 'last-modified');
  if (lastModified !== undefined) out['if-modified-since'] = lastModified;
  return out;
}

/**
 * The stored header fields updated by those of a 304 (or of a HEAD response): each field the new response has
 * replaces all lines of that field, in place; new fields are added at the end; the body's own fields stay.
 */
export function updateHeaders(stored: HeaderList, fresh: HeaderList): Array<[string, string]> {
  const incoming = new Map<string, Array<[string, string]>>();
  for (const [name, value] of fresh) {
    const lower = name.toLowerCase();
    if (NOT_UPDATED.has(lower)) continue;
    let lines = incoming.get(lower);
    if (lines === undefined) {
      lines = [];
      incoming.set(lower, lines);
    }
    lines.push([name, value]);
  }
  const out: Array<[string, string]> = [];
  const placed = new Set<string>();
  for (const [name, value] of stored) {
    const lower = name.toLowerCase();
    const replacement = incoming.get(lower);
    if (replacement === undefined) {
      out.push([name, value]);
    } else if (!placed.has(lower)) {
      placed.add(lower);
      out.push(...replacement);
    }
  }
  for (const [lower, lines] of incoming) if (!placed.has(lower)) out.push(...lines);
  return out;
}

/** Fields of a stored response that a 304 sent to a client leaves out. */
export const NOT_IN_304 = new Set([
  'content-length',
  'content-type',
  'content-encoding',
  'content-range',
  'transfer-encoding',
]);
