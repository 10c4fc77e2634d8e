import type { Awaitable, Backend, BackendCapabilities, CacheBackend, CacheKey } from '@cache/core';

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

/**
 * Everything {@link conformanceCases} needs to bind the cases to one backend. The same as
 * {@link ConformanceOptions}, with `runner` optional: cases run by hand need none.
 */
export interface ConformanceCaseOptions<B extends CacheBackend = CacheBackend> {
  /** Name of the backend, shown in the top `describe` block. */
  readonly name: string;
  /** The test runner's `describe` and `it`; only {@link runBackendConformance} uses them. */
  readonly runner?: TestRunner;
  /**
   * Makes a fresh backend. Every test creates one; the first-use case creates several at once and uses them
   * concurrently before any of them has done anything, as parallel processes starting on one store would. Tests
   * may run against a shared store: the suite uses a unique key prefix in every test.
   */
  readonly create: () => Awaitable<B>;
  /**
   * Runs after every test, also when it failed, once per backend created: close connections. `written` holds
   * every key the suite wrote through this backend (already deleted through its own `delete` unless `cleanup`
   * is false), for a store that wants to remove more than the entries, or removes them itself.
   */
  readonly destroy?: (backend: B, written: readonly CacheKey[]) => Awaitable<void>;
  /** What the backend promises; cases adapt to it (tolerances, key distinctness, sizes). */
  readonly capabilities: ConformanceCapabilities;
  /** Storage access for the "nothing left behind" checks. */
  readonly inspect?: StorageInspector<B>;
  /**
   * The raw level under the typed backend, for byte-storing backends (`TypedBackend` subclasses). Give it, and
   * the suite also writes bytes to it directly: views into larger buffers at an offset, with the rest of the
   * buffer poisoned, which no built-in format produces but a custom `Format` or `Compressor` may.
   * @default undefined (the raw cases are left out)
   */
  readonly raw?: (backend: B) => Backend;
  /**
   * Deletes every key a test wrote through the backend's own `delete` when the test ends, also when it failed,
   * so a shared store keeps nothing of the suite. Turn it off when `destroy` drops the whole store anyway (a
   * temporary directory, a throwaway database), or removes the `written` keys itself.
   * @default true
   */
  readonly cleanup?: boolean;
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

/** Everything {@link runBackendConformance} needs to run the suite against one backend. */
export interface ConformanceOptions<B extends CacheBackend = CacheBackend> extends ConformanceCaseOptions<B> {
  /** The test runner's `describe` and `it`. */
  readonly runner: TestRunner;
}
