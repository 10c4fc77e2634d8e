import { CacheError } from '@cache/core';

/** A Redis endpoint taken apart, credentials kept out of anything printable. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly database: number | undefined;
}

const DEFAULT_PORT = 6379;

function invalid(what: string): CacheError {
  // Never echo the input: it may hold a password.
  return new CacheError(
    'INVALID_OPTIONS',
    `${what} (expected redis[s]://[user[:password]@]host[:port][/db])`,
  );
}

function decode(text: string, what: string): string | undefined {
  if (text === '') return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(`the ${what} in the Redis URL has an invalid percent escape`);
  }
}

/**
 * Parses `redis://`, `rediss://` or a bare `host:port`. Done here rather than by node-redis so that a malformed
 * URL never reaches an error message (Node's URL errors carry the whole input, password included).
 */
export function parseAddress(text: string): RedisAddress {
  if (typeof text !== 'string' || text === '') throw invalid('empty Redis address');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `redis://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid('the Redis URL does not parse');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw invalid(`unsupported scheme "${url.protocol.slice(0, 16)}"`);
  }
  if (url.hostname === '') throw invalid('the Redis URL has no host');
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  let database: number | undefined;
  const path = url.pathname.replace(/^\//, '');
  if (path !== '') {
    database = Number(path);
    if (!/^\d{1,5}$/.test(path)) throw invalid('the database in the Redis URL is not a number');
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port,
    tls: url.protocol === 'rediss:',
    username: decode(url.username, 'username'),
    password: decode(url.password, 'password'),
    database,
  };
}
