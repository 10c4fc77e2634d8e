import { getHeader, type HeaderList, type RequestHeaders } from './headers.js';
import { parseHttpDate } from './http-date.js';

/** A satisfiable single byte range of a stored body, inclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The byte range a request asks of a complete stored body of `length` bytes (RFC 9110 section 14): one range,
 * `bytes=a-b`, `bytes=a-` or `bytes=-n`, honoured only while `If-Range` (if any) still matches. `undefined` means
 * "send the whole response", which is always allowed (several ranges, other units, unsatisfiable ranges).
 */
export function requestedRange(
  request: RequestHeaders,
  headers: HeaderList,
  length: number,
): ByteRange | undefined {
  const value = request.get('range');
  if (value === null) return undefined;
  const ifRange = request.get('if-range');
  if (ifRange !== null) {
    const etag = getHeader(headers, 'etag');
    if (ifRange.startsWith('"') || ifRange.startsWith('W/')) {
      if (etag === undefined || etag.startsWith('W/') || ifRange !== etag) return undefined;
    } else {
      const date = parseHttpDate(ifRange);
      const lastModified = parseHttpDate(getHeader(headers, 'last-modified'));
      if (date === undefined || lastModified === undefined || date !== lastModified) return undefined;
    }
  }
  const m = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(value.trim());
  if (m === null || (m[1] === '' && m[2] === '') || length === 0) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return undefined;
    return { start: Math.max(0, length - suffix), end: length - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? length - 1 : Math.min(Number(m[2]), length - 1);
  if (start >= length || end < start) return undefined;
  return { start, end };
}

/** The part of a stored 206 that answers a request, and where it sits in the whole representation. */
export interface PartialSlice {
  /** Offsets into the stored body, end exclusive. */
  readonly from: number;
  readonly to: number;
  /** The answer's Content-Range values. */
  readonly first: number;
  readonly last: number;
  readonly total: number;
}

/** The stored range of a 206 (`Content-Range: bytes a-b/total`), or `undefined` when it is not one plain range. */
export function storedRange(headers: HeaderList): { start: number; end: number; total: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec((getHeader(headers, 'content-range') ?? '').trim());
  if (m === null) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = Number(m[3]);
  if (end < start || end >= total) return undefined;
  return { start, end, total };
}

/**
 * The slice of a stored partial body that answers a request's single byte range, when the stored range covers
 * it: `a-b` and `a-` count from the stored range's first byte, a suffix `-n` from its last (the two agree whenever
 * the body is as long as its Content-Range says). `undefined`: not covered, several ranges, `If-Range`.
 */
export function partialSlice(
  request: RequestHeaders,
  headers: HeaderList,
  bodyLength: number,
): PartialSlice | undefined {
  const value = request.get('range');
  if (value === null || request.get('if-range') !== null) return undefined;
  const stored = storedRange(headers);
  if (stored === undefined || bodyLength === 0) return undefined;
  const m = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i.exec(value.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || stored.end !== stored.total - 1) return undefined;
    const length = Math.min(suffix, bodyLength);
    if (suffix > stored.end - stored.start + 1) return undefined;
    return {
      from: bodyLength - length,
      to: bodyLength,
      first: stored.total - length,
      last: stored.total - 1,
      total: stored.total,
    };
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? stored.total - 1 : Math.min(Number(m[2]), stored.total - 1);
  if (first < stored.start || last > stored.end || last < first) return undefined;
  const from = first - stored.start;
  const to = Math.min(last - stored.start + 1, bodyLength);
  if (from >= to) return undefined;
  return { from, to, first, last: first + (to - from) - 1, total: stored.total };
}
