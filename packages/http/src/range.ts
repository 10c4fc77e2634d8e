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
