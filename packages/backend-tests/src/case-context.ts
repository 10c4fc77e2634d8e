import {
  type Awaitable,
  type Backend,
  type CacheBackend,
  CacheKey,
  type CacheKeyOptions,
  type CacheValue,
  type DeleteStatus,
  type KeyPartsInput,
  type ReadInfo,
} from '@cache/core';
import { expectSame, fail, show, showKey } from './assert.js';
import type { ConformanceCapabilities } from './options.js';

/** Capabilities with every default filled in. */
export interface ResolvedCapabilities {
  readonly expiryPrecisionMs: number;
  readonly maxValueBytes: number | undefined;
  readonly losslessKeys: boolean;
  readonly binaryData: boolean;
  readonly layers: number;
  /** True when the options give the raw level (`raw`), so the raw cases apply. */
  readonly raw: boolean;
}

/** Resolves the optional capabilities of `options` to their defaults. */
export function resolveCapabilities(
  caps: ConformanceCapabilities,
  layers = 1,
  raw = false,
): ResolvedCapabilities {
  return {
    expiryPrecisionMs: caps.expiryPrecisionMs,
    maxValueBytes: caps.maxValueBytes,
    losslessKeys: caps.losslessKeys,
    binaryData: caps.binaryData ?? true,
    layers,
    raw,
  };
}

/** How a case context is set up for one test. */
export interface CaseSettings {
  readonly caps: ResolvedCapabilities;
  readonly keyPrefix: string;
  readonly caseId: string;
  readonly exists: ((key: CacheKey) => Awaitable<boolean>) | undefined;
  readonly valueOfSize: ((bytes: number) => unknown) | undefined;
  /** The raw level of a backend, when the options give one. */
  readonly raw: ((backend: CacheBackend) => Backend) | undefined;
  /** Creates another backend for this test, destroyed with it; the context shares this test's key prefix. */
  readonly open: (prefix: string) => Promise<CaseContext>;
}

/** Extra time waited past an expiry instant (plus the declared precision) before asserting it is gone. */
export const EXPIRY_MARGIN_MS = 50;

function randomId(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

// Every runtime has a global setTimeout; typed here so the build needs neither DOM nor Node types.
const timers = globalThis as unknown as { setTimeout(callback: () => void, ms: number): unknown };

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(resolve, Math.max(0, ms));
  });
}

/** Resolves once `Date.now()` has reached `instant`, even when timers fire a little early. */
export async function sleepUntil(instant: number): Promise<void> {
  for (let now = Date.now(); now < instant; now = Date.now()) await sleep(instant - now);
}

/**
 * What a case works with: the backend under test, the capabilities, and helpers that build keys in a namespace
 * of its own and call the backend with clear failure messages. One context per test run.
 */
export class CaseContext {
  readonly backend: CacheBackend;
  readonly caps: ResolvedCapabilities;
  /** Unique prefix of every key of this test. */
  readonly prefix: string;
  readonly #settings: CaseSettings;
  readonly #written = new Map<string, CacheKey>();

  /** `prefix` defaults to a new random one under `settings.keyPrefix`. */
  constructor(backend: CacheBackend, settings: CaseSettings, prefix?: string) {
    this.backend = backend;
    this.#settings = settings;
    this.caps = settings.caps;
    this.prefix = prefix ?? `${settings.keyPrefix}:${randomId()}:${settings.caseId}`;
  }

  /** Every key written through this context, once each, in the order first written. */
  get written(): CacheKey[] {
    return [...this.#written.values()];
  }

  /** The raw level of this context's backend, or `undefined` when the options give none. */
  get raw(): Backend | undefined {
    return this.#settings.raw?.(this.backend);
  }

  /**
   * `count` more backends from `create()`, all created before this returns and none used yet, sharing this
   * test's key prefix. They are cleaned up and destroyed with the test.
   */
  async fresh(count: number): Promise<CaseContext[]> {
    return await Promise.all(Array.from({ length: count }, () => this.#settings.open(this.prefix)));
  }

  /** A one-part key in this test's namespace. */
  key(name: string, value: string | null = null, options: Omit<CacheKeyOptions, 'prefix'> = {}): CacheKey {
    return CacheKey.of(name, value, { ...options, prefix: this.prefix });
  }

  /** A key from parts in this test's namespace; `prefixSuffix` is appended to the namespace prefix. */
  keyFrom(parts: KeyPartsInput, options: { version?: number; prefixSuffix?: string } = {}): CacheKey {
    return CacheKey.from(parts, {
      version: options.version ?? 0,
      prefix: this.prefix + (options.prefixSuffix ?? ''),
    });
  }

  /** Data that takes `bytes` bytes once stored (see `ConformanceOptions.valueOfSize`). */
  valueOfSize(bytes: number): unknown {
    if (this.#settings.valueOfSize !== undefined) return this.#settings.valueOfSize(bytes);
    return this.caps.binaryData ? pseudoRandomBytes(bytes) : pseudoRandomText(bytes);
  }

  async get<T>(key: CacheKey, info?: ReadInfo): Promise<CacheValue<T> | undefined> {
    return info === undefined ? await this.backend.get<T>(key) : await this.backend.get<T>(key, info);
  }

  async set<T>(key: CacheKey, value: CacheValue<T>): Promise<void> {
    this.#remember(key);
    await this.backend.set(key, value);
  }

  /** Writes bytes at the raw level (see {@link raw}); the key is cleaned up through the typed `delete`. */
  async writeRaw(raw: Backend, key: CacheKey, value: CacheValue<Uint8Array>): Promise<void> {
    this.#remember(key);
    await raw.write(key, value);
  }

  /** Records `key` as written by the test (for writes the context does not make itself), so it is cleaned up. */
  remember(key: CacheKey): void {
    this.#remember(key);
  }

  #remember(key: CacheKey): void {
    if (!this.#written.has(key.canonical)) this.#written.set(key.canonical, key);
  }

  async delete(key: CacheKey): Promise<DeleteStatus> {
    return await this.backend.delete(key);
  }

  /** Fails unless `status` is `deleted` with the count one `set` leaves (`layers`). */
  expectDeleted(status: DeleteStatus, key: CacheKey, what: string): void {
    if (status?.kind !== 'deleted')
      fail(`${what}: delete of ${showKey(key)} should report "deleted", got ${show(status)}`);
    expectSame(status.count, this.caps.layers, `${what}: deleted count of ${showKey(key)}`);
  }

  /** Fails unless `status` is `missing`. */
  expectMissing(status: DeleteStatus, key: CacheKey, what: string): void {
    if (status?.kind !== 'missing')
      fail(`${what}: delete of ${showKey(key)} should report "missing", got ${show(status)}`);
  }

  /** When an inspector is given, fails if the store still holds anything for `key`. */
  async expectNothingStored(key: CacheKey, what: string): Promise<void> {
    const exists = this.#settings.exists;
    if (exists === undefined) return;
    if (await exists(key)) {
      fail(`${what}: the store still holds an entry for ${showKey(key)} (found by inspect.exists)`);
    }
  }
}

/** `length` bytes from a fixed xorshift sequence: every byte value appears, and nothing compresses it away. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** `length` ASCII characters from the same sequence, for formats without binary data. */
export function pseudoRandomText(length: number): string {
  const bytes = pseudoRandomBytes(length);
  let out = '';
  const chunk: string[] = [];
  for (let i = 0; i < length; i++) {
    chunk.push(ALPHABET[(bytes[i] ?? 0) & 63] ?? 'A');
    if (chunk.length === 8192) {
      out += chunk.join('');
      chunk.length = 0;
    }
  }
  return out + chunk.join('');
}
