/**
 * Stable error codes. Match on `code`, never on `message`: messages may be reworded, codes are part of the API.
 *
 * - `INVALID_KEY`, `INVALID_VALUE`, `INVALID_OPTIONS`: the caller passed something unusable.
 * - `KEY_DECODE`: stored key bytes are not a valid encoding (truncated, trailing bytes, bad UTF-8, ...).
 * - `SERIALIZE`, `DESERIALIZE`: the value format failed (or the bytes were written by another format).
 * - `COMPRESS`, `DECOMPRESS`: the compressor failed, or the bytes are corrupt or from another compressor.
 * - `DECOMPRESS_LIMIT`: decompressing would exceed the configured maximum output size (a decompression bomb).
 * - `CODEC_MISMATCH`: the entry was written with another format or compressor than the reader's.
 * - `NOT_READY`: a component that needs asynchronous initialisation was used before it was ready.
 * - `CONNECTION`, `TIMEOUT`, `AUTH`, `CLOSED`: the store could not be reached in time, refused us, or was closed.
 * - `CORRUPT_ENTRY`: a stored entry does not have the expected layout (hostile or foreign data).
 * - `PROTOCOL`: the server's reply is not what the protocol promises for the command (a broken server or proxy):
 *   an integer command answered `+OK` or null, a malformed `SCAN` page. Never turned into an answer.
 * - `VALUE_TOO_LARGE`: a value exceeds what the backend accepts.
 * - `CIRCUIT_OPEN`: a circuit breaker refused the call without trying the store, after repeated failures; the
 *   message says when it probes again. Retryable.
 * - `OVERLOADED`: too many operations were in flight on the backend (its `maxInFlight`); refused at once. Retryable.
 * - `ALL_LAYERS_FAILED`: every layer of a composition failed; `cause` holds their errors.
 * - `BACKEND`: any other failure of the underlying store; see `cause`.
 * - `LOADER_FAILED`: a cache's loader (the function that computes a missing value) threw or rejected, and no
 *   stale value could be served instead; `cause` holds the loader's error.
 * - `LOADER_TIMEOUT`: a loader ran past its hard timeout and no stale value could be served instead.
 * - `LOCK_TIMEOUT`: a caller waited longer than its lock timeout for another caller's loader of the same key,
 *   and no stale value could be served instead.
 * - `LEASE_LOST`: a write made under a lock's lease (see `LockStore`) was refused because the lease had ended or
 *   another holder had taken the key: a newer value may be there. Nothing was written.
 */
export type CacheErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_VALUE'
  | 'INVALID_OPTIONS'
  | 'KEY_DECODE'
  | 'SERIALIZE'
  | 'DESERIALIZE'
  | 'COMPRESS'
  | 'DECOMPRESS'
  | 'DECOMPRESS_LIMIT'
  | 'CODEC_MISMATCH'
  | 'NOT_READY'
  | 'CONNECTION'
  | 'TIMEOUT'
  | 'AUTH'
  | 'CLOSED'
  | 'CORRUPT_ENTRY'
  | 'PROTOCOL'
  | 'VALUE_TOO_LARGE'
  | 'CIRCUIT_OPEN'
  | 'OVERLOADED'
  | 'ALL_LAYERS_FAILED'
  | 'BACKEND'
  | 'LOADER_FAILED'
  | 'LOADER_TIMEOUT'
  | 'LOCK_TIMEOUT'
  | 'LEASE_LOST';

/** The operation during which an error happened. */
export type CacheOperation =
  | 'get'
  | 'set'
  | 'delete'
  | 'read'
  | 'write'
  | 'remove'
  | 'clear'
  | 'connect'
  | 'close'
  | 'encode'
  | 'decode'
  | 'load'
  | 'lock';

/** Where and why a {@link CacheError} happened. All fields are optional. */
export interface CacheErrorDetails {
  /** The underlying error. */
  readonly cause?: unknown;
  /** The canonical string of the key involved (see `CacheKey.canonical`), shortened when very long. */
  readonly key?: string;
  /** The label of the backend that failed, e.g. `"redis"` or `"cache.redis"`. */
  readonly backend?: string;
  /** The operation that failed. */
  readonly operation?: CacheOperation;
}

const MAX_KEY_IN_ERROR = 256;
const RETRYABLE: ReadonlySet<CacheErrorCode> = new Set([
  'CONNECTION',
  'TIMEOUT',
  'CLOSED',
  'CIRCUIT_OPEN',
  'OVERLOADED',
]);

/**
 * The one error class of every `@cache` package. Errors from libraries underneath are wrapped, kept as `cause`.
 * Messages never contain credentials.
 */
export class CacheError extends Error {
  /** Stable machine-readable code. */
  readonly code: CacheErrorCode;
  /** Canonical string of the key involved, when there is one. */
  readonly key: string | undefined;
  /** Label of the backend that raised the error, when there is one. */
  readonly backend: string | undefined;
  /** The operation that failed, when known. */
  readonly operation: CacheOperation | undefined;

  constructor(code: CacheErrorCode, message: string, details: CacheErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CacheError';
    this.code = code;
    this.key =
      details.key !== undefined && details.key.length > MAX_KEY_IN_ERROR
        ? `${details.key.slice(0, MAX_KEY_IN_ERROR)}…`
        : details.key;
    this.backend = details.backend;
    this.operation = details.operation;
  }

  /**
   * True for failures that may pass by themselves (connection lost, timeout, breaker open, overloaded): worth
   * retrying later. A circuit breaker counts these, and only these, as signs of a sick store.
   */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** Narrowing check that also works across duplicated copies of the package. */
  static is(error: unknown, code?: CacheErrorCode): error is CacheError {
    if (
      !(error instanceof Error) ||
      error.name !== 'CacheError' ||
      typeof (error as CacheError).code !== 'string'
    ) {
      return false;
    }
    return code === undefined || (error as CacheError).code === code;
  }

  /** Wraps `error` as a CacheError with `code`, or adds missing details to one that already is a CacheError. */
  static wrap(
    error: unknown,
    code: CacheErrorCode,
    message: string,
    details: CacheErrorDetails = {},
  ): CacheError {
    if (CacheError.is(error)) {
      if (
        (details.backend === undefined || error.backend !== undefined) &&
        (details.key === undefined || error.key !== undefined) &&
        (details.operation === undefined || error.operation !== undefined)
      ) {
        return error;
      }
      return new CacheError(error.code, error.message, {
        cause: error.cause,
        key: error.key ?? details.key,
        backend: error.backend ?? details.backend,
        operation: error.operation ?? details.operation,
      } as CacheErrorDetails);
    }
    const reason = error instanceof Error ? error.message : String(error);
    return new CacheError(code, `${message}: ${reason}`, { ...details, cause: error });
  }
}
