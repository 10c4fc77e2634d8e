import { CacheError, type CacheErrorCode, type CacheOperation } from '@cache/core';
import { DeadlineError } from './deadline.js';

/** Server replies that mean "not allowed": bad credentials, missing ACL permission, AUTH required. */
const AUTH_REPLY = /^(WRONGPASS|NOAUTH|NOPERM|ERR AUTH|ERR invalid password|ERR Client sent AUTH)/;
/** Server replies that pass by themselves: the node is loading, failing over, or the slot is moving. */
const TRANSIENT_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|MOVED|ASK)\b/;
/**
 * node-redis error classes meaning "not connected". Matched by class name (node-redis does not set `name`), so
 * errors from any copy of the library are recognised.
 */
const CONNECTION_ERRORS = new Set([
  'ClientOfflineError',
  'ClientClosedError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'ReconnectStrategyError',
  'RootNodesUnavailableError',
  'MaxCommandRedirectionsError',
  'DisconnectsClientError',
]);

/** The class name of an error: node-redis' classes leave `name` as "Error". */
export function errorClass(error: Error): string {
  return error.constructor?.name ?? error.name;
}

/** True for an error the server sent back (a RESP error reply), as opposed to a local or network failure. */
export function isServerReply(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const kind = errorClass(error);
  return (
    kind === 'ErrorReply' || kind === 'SimpleError' || kind === 'BlobError' || kind === 'MultiErrorReply'
  );
}

function firstReplyError(error: Error): Error {
  // A failed MULTI reports its per-command errors in `replies`; the first one says why.
  const replies = (error as { replies?: unknown }).replies;
  if (Array.isArray(replies)) {
    const failed = replies.find((reply): reply is Error => reply instanceof Error);
    if (failed !== undefined) return failed;
  }
  return error;
}

/** The stable code for an error raised by node-redis, the socket or the deadline. */
export function classify(error: unknown): CacheErrorCode {
  if (CacheError.is(error)) return error.code;
  if (error instanceof DeadlineError) return 'TIMEOUT';
  if (!(error instanceof Error)) return 'BACKEND';
  const reply = firstReplyError(error);
  const message = reply.message;
  if (AUTH_REPLY.test(message)) return 'AUTH';
  if (message.startsWith('WRONGTYPE')) return 'CORRUPT_ENTRY';
  if (TRANSIENT_REPLY.test(message)) return 'CONNECTION';
  const kind = errorClass(reply);
  // A null EXEC reply (node-redis' WatchError): the backend never WATCHes, so no server aborts its transactions.
  if (kind === 'WatchError') return 'PROTOCOL';
  if (kind === 'TimeoutError' || kind === 'AbortError') return 'TIMEOUT';
  if (CONNECTION_ERRORS.has(kind)) return 'CONNECTION';
  const code = (reply as NodeJS.ErrnoException).code;
  if (
    typeof code === 'string' &&
    /^(E[A-Z]+|ERR_TLS_|ERR_SSL_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|CERT_)/.test(code)
  ) {
    return 'CONNECTION';
  }
  return 'BACKEND';
}

const WHAT: Record<CacheErrorCode, string> = {
  AUTH: 'Redis refused the credentials or the command (ACL)',
  CORRUPT_ENTRY: 'the Redis key holds something that is not a cache entry',
  PROTOCOL: 'Redis (or a proxy) sent a reply the command never returns',
  CONNECTION: 'Redis is not reachable',
  TIMEOUT: 'Redis did not answer in time',
  CLOSED: 'the backend is closed',
} as Record<CacheErrorCode, string>;

/**
 * Wraps any failure of an operation as a CacheError with a stable code, the backend label, the operation and the
 * key. Messages come from node-redis, the socket or the server, none of which repeat credentials.
 */
export function toCacheError(
  error: unknown,
  operation: CacheOperation,
  backend: string,
  key: string | undefined,
): CacheError {
  const code = classify(error);
  const what = WHAT[code] ?? 'Redis command failed';
  const details = key === undefined ? { backend, operation } : { backend, operation, key };
  return CacheError.wrap(error, code, `${backend}: ${operation} failed, ${what}`, details);
}
