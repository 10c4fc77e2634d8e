import { CacheError, type CacheBackend, type CacheKey } from '@cache/core';
import { ConformanceFailure } from './assert.js';
import { CaseContext, type ResolvedCapabilities, resolveCapabilities } from './case-context.js';
import { basicCases } from './cases/basic.js';
import { batchCases } from './cases/batch.js';
import type { CaseFactory } from './cases/case-definition.js';
import { concurrencyCases } from './cases/concurrency.js';
import { dataCases } from './cases/data.js';
import { expiryCases } from './cases/expiry.js';
import { firstUseCases } from './cases/first-use.js';
import { keyCases } from './cases/keys.js';
import { metadataCases } from './cases/metadata.js';
import { rawCases } from './cases/raw.js';
import { sizeCases } from './cases/size.js';
import { tagCases } from './cases/tags.js';
import type { ConformanceCaseOptions, ConformanceOptions } from './options.js';

/** One case of the suite bound to a backend factory, ready to run under any runner or none. */
export interface ConformanceCase {
  /** Stable identifier, e.g. `"overwrite-clears-metadata"`. */
  readonly id: string;
  /** The `describe` block the case belongs to, e.g. `"overwrite"`. */
  readonly group: string;
  /** The guarantee the case checks, used as the test name. */
  readonly title: string;
  /**
   * Creates a backend, runs the case, and destroys the backend even when the case failed. Rejects with a
   * `ConformanceFailure` when the backend breaks the guarantee, or with the backend's own error.
   */
  run(): Promise<void>;
}

const FACTORIES: readonly CaseFactory[] = [
  basicCases,
  batchCases,
  metadataCases,
  expiryCases,
  keyCases,
  dataCases,
  sizeCases,
  concurrencyCases,
  firstUseCases,
  rawCases,
  tagCases,
];

/** Deletes run this many at a time when a test's keys are cleaned up. */
const CLEANUP_BATCH = 100;

function invalid(message: string): never {
  throw new CacheError('INVALID_OPTIONS', `runBackendConformance: ${message}`);
}

function validateRunner(runner: unknown): void {
  const given = runner as { describe?: unknown; it?: unknown } | null | undefined;
  if (typeof given?.describe !== 'function' || typeof given?.it !== 'function') {
    invalid('runner must have the describe and it functions of your test runner');
  }
}

function validate<B extends CacheBackend>(options: ConformanceCaseOptions<B>): void {
  if (options === null || typeof options !== 'object') invalid('options must be an object');
  if (typeof options.name !== 'string') invalid('name must be a string');
  if (options.runner !== undefined) validateRunner(options.runner);
  if (typeof options.create !== 'function') invalid('create must be a function returning a backend');
  if (options.destroy !== undefined && typeof options.destroy !== 'function')
    invalid('destroy must be a function');
  if (options.inspect !== undefined && typeof options.inspect?.exists !== 'function') {
    invalid('inspect.exists must be a function');
  }
  const caps = options.capabilities;
  if (caps === null || typeof caps !== 'object') invalid('capabilities must be an object');
  if (!Number.isFinite(caps.expiryPrecisionMs) || caps.expiryPrecisionMs < 0) {
    invalid('capabilities.expiryPrecisionMs must be a finite number of milliseconds, 0 or more');
  }
  if (typeof caps.losslessKeys !== 'boolean') invalid('capabilities.losslessKeys must be a boolean');
  if (
    caps.maxValueBytes !== undefined &&
    (!Number.isSafeInteger(caps.maxValueBytes) || caps.maxValueBytes <= 0)
  ) {
    invalid('capabilities.maxValueBytes must be a positive integer');
  }
  if (caps.binaryData !== undefined && typeof caps.binaryData !== 'boolean') {
    invalid('capabilities.binaryData must be a boolean');
  }
  if (options.layers !== undefined && (!Number.isSafeInteger(options.layers) || options.layers < 1)) {
    invalid('layers must be a positive integer');
  }
  if (options.valueOfSize !== undefined && typeof options.valueOfSize !== 'function') {
    invalid('valueOfSize must be a function');
  }
  if (options.raw !== undefined && typeof options.raw !== 'function') invalid('raw must be a function');
  if (options.cleanup !== undefined && typeof options.cleanup !== 'boolean') {
    invalid('cleanup must be a boolean');
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Deletes `keys` through `backend`, `CLEANUP_BATCH` at a time; rejects with the first failure. */
async function deleteAll(backend: CacheBackend, keys: readonly CacheKey[]): Promise<void> {
  for (let start = 0; start < keys.length; start += CLEANUP_BATCH) {
    await Promise.all(keys.slice(start, start + CLEANUP_BATCH).map(async (key) => backend.delete(key)));
  }
}

/**
 * The backends one test created, with their contexts: it creates them, and at the end deletes what each one
 * wrote and destroys it, reporting the first failure unless the case already failed.
 */
class CaseSession<B extends CacheBackend> {
  readonly #options: ConformanceCaseOptions<B>;
  readonly #caps: ResolvedCapabilities;
  readonly #caseId: string;
  readonly #opened: { backend: B; context: CaseContext }[] = [];

  constructor(options: ConformanceCaseOptions<B>, caps: ResolvedCapabilities, caseId: string) {
    this.#options = options;
    this.#caps = caps;
    this.#caseId = caseId;
  }

  /** Creates a backend and its context; `prefix` shares another context's key namespace. */
  async open(prefix?: string): Promise<CaseContext> {
    const { inspect, valueOfSize, raw } = this.#options;
    let backend: B;
    try {
      backend = await this.#options.create();
    } catch (error) {
      const which = this.#opened.length === 0 ? '' : ` (backend #${this.#opened.length + 1} of the case)`;
      throw new ConformanceFailure(
        `create() failed before case "${this.#caseId}"${which}: ${describeError(error)}`,
        { cause: error },
      );
    }
    const context = new CaseContext(
      backend,
      {
        caps: this.#caps,
        keyPrefix: this.#options.keyPrefix ?? 'conformance',
        caseId: this.#caseId,
        exists: inspect === undefined ? undefined : (key) => inspect.exists(backend, key),
        valueOfSize,
        raw: raw === undefined ? undefined : () => raw(backend),
        open: (shared) => this.open(shared),
      },
      prefix,
    );
    this.#opened.push({ backend, context });
    return context;
  }

  /** Cleans up and destroys every backend opened, the first one last; rejects with the first failure. */
  async close(): Promise<void> {
    let first: { error: unknown } | undefined;
    for (const { backend, context } of [...this.#opened].reverse()) {
      const written = context.written;
      if (this.#options.cleanup !== false) {
        try {
          await deleteAll(backend, written);
        } catch (error) {
          first ??= { error: this.#failure('cleanup (delete of the keys it wrote)', error) };
        }
      }
      try {
        await this.#options.destroy?.(backend, written);
      } catch (error) {
        first ??= { error: this.#failure('destroy()', error) };
      }
    }
    if (first !== undefined) throw first.error;
  }

  #failure(what: string, error: unknown): ConformanceFailure {
    return new ConformanceFailure(`${what} failed after case "${this.#caseId}": ${describeError(error)}`, {
      cause: error,
    });
  }
}

/**
 * The cases of the suite for `options.capabilities`, each bound to `options.create`/`destroy`. Use it to run
 * single cases, to list them, or to drive a runner the suite does not know (`runner` is not needed here).
 */
export function conformanceCases<B extends CacheBackend>(
  options: ConformanceCaseOptions<B>,
): ConformanceCase[] {
  validate(options);
  const caps = resolveCapabilities(options.capabilities, options.layers, options.raw !== undefined);
  return FACTORIES.flatMap((factory) => factory(caps)).map((definition) => ({
    id: definition.id,
    group: definition.group,
    title: definition.title,
    async run(): Promise<void> {
      const session = new CaseSession(options, caps, definition.id);
      let failure: { error: unknown } | undefined;
      try {
        await definition.run(await session.open());
      } catch (error) {
        failure = { error };
      }
      try {
        await session.close();
      } catch (error) {
        // The case's own failure says more than a cleanup failure that may follow from it.
        if (failure === undefined) throw error;
      }
      if (failure !== undefined) throw failure.error;
    },
  }));
}

/**
 * Registers the conformance suite with your test runner: one `describe` named after the backend, one nested
 * `describe` per topic, one `it` per case. Every test creates its own backend and destroys it afterwards.
 *
 * @example
 * import { describe, it } from 'vitest';
 * import { runBackendConformance } from '@cache/backend-tests';
 * import { memoryBackend } from '@cache/memory';
 *
 * runBackendConformance({
 *   name: 'memory',
 *   runner: { describe, it },
 *   create: () => memoryBackend({ maxEntries: 10_000 }),
 *   capabilities: { expiryPrecisionMs: 0, losslessKeys: true },
 * });
 */
export function runBackendConformance<B extends CacheBackend>(options: ConformanceOptions<B>): void {
  if (options !== null && typeof options === 'object') validateRunner(options.runner);
  const cases = conformanceCases(options);
  const groups = new Map<string, ConformanceCase[]>();
  for (const testCase of cases) {
    const list = groups.get(testCase.group);
    if (list === undefined) groups.set(testCase.group, [testCase]);
    else list.push(testCase);
  }
  const { describe, it } = options.runner;
  describe(`backend conformance: ${options.name}`, () => {
    for (const [group, list] of groups) {
      describe(group, () => {
        for (const testCase of list) it(testCase.title, () => testCase.run());
      });
    }
  });
}
