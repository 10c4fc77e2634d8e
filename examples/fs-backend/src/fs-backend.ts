import { resolve } from 'node:path';
import {
  type Backend,
  type BackendCapabilities,
  type BackendLabel,
  CacheError,
  type CacheKey,
  type Compressor,
  type Format,
  type KeyFormat,
  passthrough,
  TypedBackend,
  type TypedLayerOptions,
} from '@cache/core';
import { FsStore, type SweepReport } from './fs-store.js';
import { json } from './json-format.js';
import { jsonKeys } from './json-key-format.js';

/** Options of {@link createFsBackend}. */
export interface FsBackendOptions extends TypedLayerOptions {
  /** Directory that holds the entry files; created on the first write. Give each cache its own directory. */
  readonly directory: string;
  /**
   * Name in reports and errors.
   * @default "fs"
   */
  readonly label?: BackendLabel;
  /**
   * How values become bytes. JSON keeps this package free of other dependencies; pass a CBOR format from
   * `@cache/formats` to store `Date`, `Map` or binary data.
   * @default json
   */
  readonly format?: Format;
  /**
   * Applied to the serialized bytes before they are written.
   * @default passthrough
   */
  readonly compressor?: Compressor;
  /**
   * How keys become the bytes that are hashed into file names and kept inside each file.
   * @default jsonKeys (lossless)
   */
  readonly keyFormat?: KeyFormat;
  /**
   * Largest value, in bytes after serialization and compression, that a write accepts (`VALUE_TOO_LARGE` above).
   * @default 67108864 (64 MiB)
   */
  readonly maxValueBytes?: number;
  /**
   * Runs {@link FsBackend.sweep} this often, in milliseconds. The timer never keeps the process alive and stops on
   * `close()`. Leave it out to sweep only when you call `sweep()` (expired entries are also removed when read).
   * @default undefined (no timer)
   */
  readonly sweepIntervalMs?: number;
  /**
   * Receives the error of a timed sweep that failed. Timed sweeps have no caller to reject to, so their failures
   * go here.
   * @default process.emitWarning
   */
  readonly onSweepError?: (error: CacheError) => void;
  /**
   * Permission bits of new entry files (the process umask still applies). Cached data is often private.
   * @default 0o600
   */
  readonly fileMode?: number;
  /**
   * Flush each file to disk before it replaces the entry. Costs a disk flush per write; without it, a power loss
   * can leave an entry truncated, which reads then report as `CORRUPT_ENTRY` until it is rewritten or swept.
   * @default false
   */
  readonly fsync?: boolean;
  /**
   * Age after which a sweep removes a temporary file left by a writer that died mid-write.
   * @default 600000 (10 minutes)
   */
  readonly tempFileMaxAgeMs?: number;
}

const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;
/** The data-length field of the file header is 32 bits. */
const LARGEST_MAX_VALUE_BYTES = 0xffff_ffff;

function positiveInteger(value: number | undefined, fallback: number, name: string, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved <= 0 || resolved > max) {
    throw new CacheError('INVALID_OPTIONS', `${name} must be an integer from 1 to ${max}`);
  }
  return resolved;
}

/**
 * A persistent cache backend on the local file system: one file per entry, atomic replacement, expiry honoured
 * on every read, a sweep for expired files. Several processes may share one directory.
 */
export class FsBackend extends TypedBackend {
  /** Name in reports and errors. */
  readonly label: BackendLabel;
  /** What this backend promises, for the conformance suite and compositions. */
  readonly capabilities: BackendCapabilities;
  readonly #store: FsStore;
  readonly #onSweepError: (error: CacheError) => void;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<SweepReport> | undefined;

  constructor(options: FsBackendOptions) {
    super(options);
    if (typeof options.directory !== 'string' || options.directory === '') {
      throw new CacheError('INVALID_OPTIONS', 'directory must be a non-empty path');
    }
    const maxValueBytes = positiveInteger(
      options.maxValueBytes,
      DEFAULT_MAX_VALUE_BYTES,
      'maxValueBytes',
      LARGEST_MAX_VALUE_BYTES,
    );
    const keyFormat = options.keyFormat ?? jsonKeys;
    this.label = options.label ?? 'fs';
    this.capabilities = Object.freeze({
      expiryPrecisionMs: 0,
      maxValueBytes,
      losslessKeys: keyFormat.lossless,
    });
    this.#store = new FsStore({
      directory: resolve(options.directory),
      label: this.label,
      valueFormat: options.format ?? json,
      keyFormat,
      compressor: options.compressor ?? passthrough,
      maxValueBytes,
      fileMode: options.fileMode ?? 0o600,
      fsync: options.fsync ?? false,
      tempFileMaxAgeMs: positiveInteger(options.tempFileMaxAgeMs, 600_000, 'tempFileMaxAgeMs', 2 ** 31 - 1),
      now: options.now ?? Date.now,
    });
    this.#onSweepError = options.onSweepError ?? ((error) => process.emitWarning(error));
    if (options.sweepIntervalMs !== undefined) {
      const every = positiveInteger(options.sweepIntervalMs, 0, 'sweepIntervalMs', 2 ** 31 - 1);
      this.#timer = setInterval(() => {
        this.sweep().catch((error: unknown) =>
          this.#onSweepError(
            CacheError.wrap(error, 'BACKEND', 'timed sweep failed', { backend: this.label }),
          ),
        );
      }, every);
      this.#timer.unref();
    }
  }

  protected get raw(): Backend {
    return this.#store;
  }

  /** The raw level (bytes and metadata), for tools and the conformance suite's `raw` option. */
  get store(): Backend {
    return this.#store;
  }

  /** Absolute path of the file that holds (or would hold) the entry for `key`. For tools and tests. */
  pathOf(key: CacheKey): string {
    return this.#store.pathOf(key);
  }

  /**
   * Removes expired entries, unreadable entry files and stale temporary files. Calls made while a sweep runs
   * share it rather than start another pass over the directory.
   */
  sweep(): Promise<SweepReport> {
    if (this.#sweeping === undefined) {
      const pass = this.#store.sweep();
      this.#sweeping = pass;
      const done = () => {
        if (this.#sweeping === pass) this.#sweeping = undefined;
      };
      pass.then(done, done);
    }
    return this.#sweeping;
  }

  /** Stops the sweep timer, waits for a running sweep, and makes every later call fail with `CLOSED`. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#store.close();
    await this.#sweeping?.catch(() => undefined);
  }
}

/** Creates a {@link FsBackend}. */
export function createFsBackend(options: FsBackendOptions): FsBackend {
  return new FsBackend(options);
}
