import { type FileHandle, lstat, mkdir, open, opendir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Backend,
  type BackendLabel,
  CacheError,
  type CacheKey,
  type CacheOperation,
  CacheValue,
  type Compressor,
  DeleteStatus,
  type Format,
  type KeyFormat,
} from '@cache/core';
import {
  decodeEntry,
  decodeHeader,
  encodeEntry,
  HEADER_BYTES,
  keyOffset,
  MAX_ID_BYTES,
} from './entry-file.js';
import { entryFileName, isEntryFileName, isTempFileName, tempFileName } from './file-names.js';

/** What a sweep found and removed. */
export interface SweepReport {
  /** Entry files looked at. */
  readonly scanned: number;
  /** Expired entries removed. */
  readonly expired: number;
  /** Unreadable entry files (truncated, foreign layout) removed. */
  readonly corrupt: number;
  /** Temporary files left by writers that died mid-write, removed. */
  readonly tempFiles: number;
}

/** Settings of the raw store, all resolved: see `FsBackendOptions` for what each one does and its default. */
export interface FsStoreConfig {
  /** Absolute path of the directory of entry files. */
  readonly directory: string;
  /** Name in errors. */
  readonly label: BackendLabel;
  /** Format whose id is written into each file. */
  readonly valueFormat: Format;
  /** Turns keys into the bytes hashed into file names. */
  readonly keyFormat: KeyFormat;
  /** Compressor whose id is written into each file. */
  readonly compressor: Compressor;
  /** Largest data accepted by `write`. */
  readonly maxValueBytes: number;
  /** Permission bits of new files. */
  readonly fileMode: number;
  /** Flush each file before renaming it into place. */
  readonly fsync: boolean;
  /** Age after which a sweep removes a leftover temporary file. */
  readonly tempFileMaxAgeMs: number;
  /** Clock in Unix milliseconds. */
  readonly now: () => number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Sweep failures kept as the `cause` of the error a failing sweep rejects with. */
const MAX_SWEEP_ERRORS = 10;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function idBytes(id: string, what: string): Uint8Array {
  const bytes = encoder.encode(id);
  if (bytes.length > MAX_ID_BYTES) {
    throw new CacheError('INVALID_OPTIONS', `${what} id is longer than ${MAX_ID_BYTES} bytes`);
  }
  return bytes;
}

/** Reads up to `length` bytes from the start of an open file. */
async function readHead(handle: FileHandle, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * The raw level of the file-system backend: one file per entry in one directory, named by the SHA-256 of the
 * encoded key. Writes go to a temporary file in the same directory and are renamed over the entry file, so a
 * reader sees the old entry or the new one, never a mix, also across processes.
 */
export class FsStore implements Backend {
  /** Name in errors. */
  readonly label: BackendLabel;
  /** The format the typed level serializes data with. */
  readonly valueFormat: Format;
  /** How keys become the bytes hashed into file names. */
  readonly keyFormat: KeyFormat;
  /** The compressor applied after serialization. */
  readonly compressor: Compressor;
  readonly #config: FsStoreConfig;
  readonly #formatId: Uint8Array;
  readonly #compressorId: Uint8Array;
  #directoryReady: Promise<unknown> | undefined;
  #closed = false;

  constructor(config: FsStoreConfig) {
    this.#config = config;
    this.label = config.label;
    this.valueFormat = config.valueFormat;
    this.keyFormat = config.keyFormat;
    this.compressor = config.compressor;
    this.#formatId = idBytes(config.valueFormat.id, 'format');
    this.#compressorId = idBytes(config.compressor.id, 'compressor');
  }

  /** Absolute path of the file that holds (or would hold) the entry for `key`. */
  pathOf(key: CacheKey): string {
    return join(this.#config.directory, entryFileName(this.#encodeKey(key, 'read')));
  }

  /** Reads the entry at `key`. An expired entry is a miss, and its file is removed. */
  async read(key: CacheKey): Promise<CacheValue<Uint8Array> | undefined> {
    const keyBytes = this.#encodeKey(key, 'read');
    const path = join(this.#config.directory, entryFileName(keyBytes));
    const handle = await this.#open(path, key, 'read');
    if (handle === undefined) return undefined;
    try {
      const info = await handle.stat();
      const largest = HEADER_BYTES + 2 * MAX_ID_BYTES + keyBytes.length + this.#config.maxValueBytes;
      if (info.size > largest) {
        throw new CacheError('CORRUPT_ENTRY', 'entry file is larger than any entry this backend writes', {
          key: key.canonical,
          backend: this.label,
          operation: 'read',
        });
      }
      let entry: ReturnType<typeof decodeEntry>;
      try {
        entry = decodeEntry(await handle.readFile());
      } catch (error) {
        throw this.#error(error, 'CORRUPT_ENTRY', key, 'read');
      }
      // Another key whose hash collides: its entry, not ours.
      if (!sameBytes(entry.key, keyBytes)) return undefined;
      const value = new CacheValue(entry.data, entry.expire, entry.stale);
      if (value.isExpired(this.#config.now())) {
        await this.#removeIfUnchanged(path, info.ino, info.dev);
        return undefined;
      }
      if (!sameBytes(entry.formatId, this.#formatId) || !sameBytes(entry.compressorId, this.#compressorId)) {
        throw new CacheError(
          'CODEC_MISMATCH',
          `entry was written with format "${decoder.decode(entry.formatId)}" and compressor ` +
            `"${decoder.decode(entry.compressorId)}", this backend uses "${this.valueFormat.id}" and "${this.compressor.id}"`,
          { key: key.canonical, backend: this.label, operation: 'read' },
        );
      }
      return value;
    } catch (error) {
      throw this.#error(error, 'BACKEND', key, 'read');
    } finally {
      await handle.close();
    }
  }

  /** Replaces the entry at `key` atomically (temporary file, then rename). An expired value removes it instead. */
  async write(key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    const keyBytes = this.#encodeKey(key, 'write');
    if (value.isExpired(this.#config.now())) {
      await this.remove(key);
      return;
    }
    if (value.data.length > this.#config.maxValueBytes) {
      throw new CacheError(
        'VALUE_TOO_LARGE',
        `value of ${value.data.length} bytes exceeds maxValueBytes (${this.#config.maxValueBytes})`,
        { key: key.canonical, backend: this.label, operation: 'write' },
      );
    }
    const bytes = encodeEntry({
      expire: value.expire,
      stale: value.stale,
      formatId: this.#formatId,
      compressorId: this.#compressorId,
      key: keyBytes,
      data: value.data,
    });
    const name = entryFileName(keyBytes);
    const temp = join(this.#config.directory, tempFileName(name));
    try {
      await this.#writeNew(temp, bytes);
      await rename(temp, join(this.#config.directory, name));
    } catch (error) {
      // The primary failure is what the caller needs; a temp file that cannot be removed either is left to the sweep.
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.#error(error, 'BACKEND', key, 'write');
    }
  }

  /** Removes the entry at `key`: `deleted` when it held a live value, `missing` when absent or expired. */
  async remove(key: CacheKey): Promise<DeleteStatus> {
    const keyBytes = this.#encodeKey(key, 'remove');
    const path = join(this.#config.directory, entryFileName(keyBytes));
    const handle = await this.#open(path, key, 'remove');
    if (handle === undefined) return DeleteStatus.missing;
    try {
      const info = await handle.stat();
      let live = true;
      try {
        const head = await readHead(handle, HEADER_BYTES + 2 * MAX_ID_BYTES + keyBytes.length);
        const header = decodeHeader(head, info.size);
        const start = keyOffset(header);
        if (!sameBytes(head.subarray(start, start + header.keyBytes), keyBytes)) return DeleteStatus.missing;
        live = header.expire === undefined || header.expire > this.#config.now();
      } catch (error) {
        // A corrupt file under this key's name is removed like any entry: it is what `delete` was asked to clear.
        if (!CacheError.is(error, 'CORRUPT_ENTRY')) throw error;
      }
      const removed = await this.#removeIfUnchanged(path, info.ino, info.dev);
      return removed && live ? DeleteStatus.deleted(1) : DeleteStatus.missing;
    } catch (error) {
      throw this.#error(error, 'BACKEND', key, 'remove');
    } finally {
      await handle.close();
    }
  }

  /**
   * Removes expired entries, unreadable entry files and temporary files older than `tempFileMaxAgeMs`. Files whose
   * names this backend does not give are never touched. A file that cannot be checked does not stop the pass:
   * the sweep finishes, then rejects with `BACKEND` and the failures as `cause`.
   */
  async sweep(): Promise<SweepReport> {
    const now = this.#config.now();
    const report = { scanned: 0, expired: 0, corrupt: 0, tempFiles: 0 };
    const failures: unknown[] = [];
    let failed = 0;
    let directory: Awaited<ReturnType<typeof opendir>>;
    try {
      directory = await opendir(this.#config.directory);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return report;
      throw CacheError.wrap(error, 'BACKEND', 'sweep could not open the cache directory', {
        backend: this.label,
        operation: 'remove',
      });
    }
    for await (const dirent of directory) {
      if (this.#closed) break;
      if (!dirent.isFile()) continue;
      const path = join(this.#config.directory, dirent.name);
      try {
        if (isEntryFileName(dirent.name)) {
          report.scanned++;
          const outcome = await this.#sweepEntry(path, now);
          if (outcome !== 'live') report[outcome]++;
        } else if (isTempFileName(dirent.name)) {
          const info = await stat(path);
          if (now - info.mtimeMs > this.#config.tempFileMaxAgeMs) {
            await rm(path, { force: true });
            report.tempFiles++;
          }
        }
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue; // removed or replaced under us: nothing to do
        failed++;
        if (failures.length < MAX_SWEEP_ERRORS) failures.push(error);
      }
    }
    if (failed > 0) {
      throw new CacheError('BACKEND', `sweep could not check ${failed} file(s) of the cache directory`, {
        backend: this.label,
        operation: 'remove',
        cause: new AggregateError(failures, `first ${failures.length} failure(s)`),
      });
    }
    return report;
  }

  /** Makes every later call fail with `CLOSED`. Files stay on disk: they are the cache. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  async #sweepEntry(path: string, now: number): Promise<'live' | 'expired' | 'corrupt'> {
    const handle = await open(path, 'r');
    try {
      const info = await handle.stat();
      let outcome: 'live' | 'expired' | 'corrupt';
      try {
        const header = decodeHeader(await readHead(handle, HEADER_BYTES), info.size);
        outcome = header.expire !== undefined && header.expire <= now ? 'expired' : 'live';
      } catch (error) {
        if (!CacheError.is(error, 'CORRUPT_ENTRY')) throw error;
        outcome = 'corrupt';
      }
      if (outcome === 'live') return outcome;
      return (await this.#removeIfUnchanged(path, info.ino, info.dev)) ? outcome : 'live';
    } finally {
      await handle.close();
    }
  }

  /**
   * Unlinks `path` only if it is still the file we looked at. Writers replace files by rename, so a new entry
   * written since has another inode and survives. Returns false when the file was replaced or already gone.
   */
  async #removeIfUnchanged(path: string, ino: number, dev: number): Promise<boolean> {
    try {
      const now = await lstat(path);
      if (now.ino !== ino || now.dev !== dev) return false;
      await rm(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  async #writeNew(path: string, bytes: Uint8Array): Promise<void> {
    await this.#ensureDirectory();
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx', this.#config.fileMode);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      // The directory was removed while we were running: make it again, once.
      this.#directoryReady = undefined;
      await this.#ensureDirectory();
      handle = await open(path, 'wx', this.#config.fileMode);
    }
    try {
      await handle.writeFile(bytes);
      if (this.#config.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
  }

  #ensureDirectory(): Promise<unknown> {
    if (this.#directoryReady === undefined) {
      const ready = mkdir(this.#config.directory, { recursive: true, mode: 0o700 });
      this.#directoryReady = ready;
      ready.catch(() => {
        if (this.#directoryReady === ready) this.#directoryReady = undefined;
      });
    }
    return this.#directoryReady;
  }

  async #open(path: string, key: CacheKey, operation: CacheOperation): Promise<FileHandle | undefined> {
    try {
      return await open(path, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw this.#error(error, 'BACKEND', key, operation);
    }
  }

  #encodeKey(key: CacheKey, operation: CacheOperation): Uint8Array {
    if (this.#closed) {
      throw new CacheError('CLOSED', 'the file-system backend is closed', {
        key: key.canonical,
        backend: this.label,
        operation,
      });
    }
    try {
      return this.keyFormat.encode(key);
    } catch (error) {
      throw this.#error(error, 'INVALID_KEY', key, operation);
    }
  }

  #error(
    error: unknown,
    code: 'BACKEND' | 'CORRUPT_ENTRY' | 'INVALID_KEY',
    key: CacheKey,
    operation: CacheOperation,
  ) {
    return CacheError.wrap(error, code, `file-system backend "${this.label}" failed to ${operation}`, {
      key: key.canonical,
      backend: this.label,
      operation,
    });
  }
}
