import type { Awaitable, BackendCapabilities, CacheBackend, CacheKey } from '@cache/core';

/**
 * The two functions the suite needs from a test runner. Vitest, Jest, Mocha and `node:test` all fit as they are:
 * pass their own `describe` and `it`. Test bodies take no arguments and return a promise, so no runner waits for
 * a `done` callback.
 */
export interface TestRunner {
  /** Groups tests under a name; the body registers tests synchronously. */
  describe(name: string, body: () => void): unknown;
  /** Registers one test whose body rejects when the case fails. */
  it(name: string, body: () => Promise<void>): unknown;
}

/**
 * What the backend under test promises: the core {@link BackendCapabilities} plus what the suite needs to know
 * about the value format, so it only asks for what the backend claims to do.
 */
export interface ConformanceCapabilities extends BackendCapabilities {
  /**
   * True when the value format round-trips `Uint8Array` data byte for byte (CBOR, memory). Set it to false for a
   * JSON-like format: the binary case is left out and the size cases use strings.
   * @default true
   */
  readonly binaryData?: boolean;
}

/**
 * Looks at the store underneath the typed contract. Give one when your backend can (Redis: `EXISTS`), and the
 * suite also checks that expired and deleted entries leave nothing behind, not only that reads miss.
 */
export interface StorageInspector<B extends CacheBackend = CacheBackend> {
  /** True when the store still holds anything for `key`, expired or not. */
  exists(backend: B, key: CacheKey): Awaitable<boolean>;
}

/** Everything {@link runBackendConformance} needs to run the suite against one backend. */
export interface ConformanceOptions<B extends CacheBackend = CacheBackend> {
  /** Name of the backend, shown in the top `describe` block. */
  readonly name: string;
  /** The test runner's `describe` and `it`. */
  readonly runner: TestRunner;
  /**
   * Makes a fresh backend for one test. Tests may run against a shared store: the suite uses a unique key
   * prefix in every test, so no cleanup between tests is needed for correctness.
   */
  readonly create: () => Awaitable<B>;
  /** Runs after every test, also when it failed: close connections, remove keys. */
  readonly destroy?: (backend: B) => Awaitable<void>;
  /** What the backend promises; cases adapt to it (tolerances, key distinctness, sizes). */
  readonly capabilities: ConformanceCapabilities;
  /** Storage access for the "nothing left behind" checks. */
  readonly inspect?: StorageInspector<B>;
  /**
   * How many places hold an entry after `set`, which is the `count` that `delete` reports: 1 for a single
   * backend, the number of layers for a composition that writes to all of them.
   * @default 1
   */
  readonly layers?: number;
  /**
   * Start of every key prefix the suite writes under, followed by a random run id and the case id. Change it when
   * your store only grants some prefixes.
   * @default "conformance"
   */
  readonly keyPrefix?: string;
  /**
   * Builds data that takes exactly `bytes` bytes once stored, for the size cases. The default is a `Uint8Array` of
   * `bytes` pseudo-random bytes (a string of `bytes` ASCII characters when `binaryData` is false); give your own
   * when your format adds framing and you want the at-limit case to sit exactly on `maxValueBytes`.
   */
  readonly valueOfSize?: (bytes: number) => unknown;
}
