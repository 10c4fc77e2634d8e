/**
 * Header fields as received and stored: name and value pairs in their original order and case, one pair per
 * field line. Kept exactly so a cached response is sent as the origin sent it.
 */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** Request header fields as the engine reads them: WHATWG `Headers` fits, and so does a view of node's `req.headers`. */
export interface RequestHeaders {
  /** The field's value (several lines joined with `", "`), or `null` when absent. Names are case-insensitive. */
  get(name: string): string | null;
}

/** Fields that describe one connection, never stored nor forwarded as part of a response. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The value of `name` in `list` (several lines joined with `", "`), or `undefined`. `name` must be lower case. */
export function getHeader(list: HeaderList, name: string): string | undefined {
  let found: string | undefined;
  for (const [n, v] of list) {
    if (n.length === name.length && n.toLowerCase() === name)
      found = found === undefined ? v : `${found}, ${v}`;
  }
  return found;
}

/** Every line of `name` in `list`, in order. `name` must be lower case. */
export function getHeaderLines(list: HeaderList, name: string): string[] {
  const lines: string[] = [];
  for (const [n, v] of list) if (n.length === name.length && n.toLowerCase() === name) lines.push(v);
  return lines;
}

/** True when `list` has a line named `name` (lower case). */
export function hasHeader(list: HeaderList, name: string): boolean {
  for (const [n] of list) if (n.length === name.length && n.toLowerCase() === name) return true;
  return false;
}

/** `list` without the fields in `names` (lower case). */
export function withoutHeaders(list: HeaderList, names: ReadonlySet<string>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [n, v] of list) if (!names.has(n.toLowerCase())) out.push([n, v]);
  return out;
}

/**
 * The connection-specific field names (lower case) of a message whose `Connection` field lines are `connection`:
 * the hop-by-hop ones (RFC 9110 section 7.6.1) and those `Connection` names. Never stored or forwarded.
 */
export function connectionSpecific(connection: readonly string[]): Set<string> {
  const named = new Set(HOP_BY_HOP);
  for (const value of connection) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') named.add(name);
    }
  }
  return named;
}

/** `list` without connection-specific fields: the hop-by-hop ones and those `Connection` names. */
export function withoutHopByHop(list: HeaderList): Array<[string, string]> {
  return withoutHeaders(list, connectionSpecific(getHeaderLines(list, 'connection')));
}

/** A `RequestHeaders` view of node's `IncomingMessage.headers` (lower-case names, arrays for repeated fields). */
export function nodeRequestHeaders(headers: Record<string, string | string[] | undefined>): RequestHeaders {
  return {
    get(name: string): string | null {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** `Headers` as a list; `Set-Cookie` lines stay separate. */
export function fromFetchHeaders(headers: Headers): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const cookies = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
  for (const [name, value] of headers) {
    if (name === 'set-cookie') continue;
    out.push([name, value]);
  }
  for (const cookie of cookies) out.push(['set-cookie', cookie]);
  return out;
}
