import { CacheError, type CacheBackend } from '@cache/core';
import { ConformanceFailure } from './assert.js';
import { CaseContext, resolveCapabilities } from './case-context.js';
import { basicCases } from './cases/basic.js';
import type { CaseFactory } from './cases/case-definition.js';
import { concurrencyCases } from './cases/concurrency.js';
import { dataCases } from './cases/data.js';
import { expiryCases } from './cases/expiry.js';
import { keyCases } from './cases/keys.js';
import { metadataCases } from './cases/metadata.js';
import { sizeCases } from './cases/size.js';
import type { ConformanceOptions } from './options.js';

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
  metadataCases,
  expiryCases,
  keyCases,
  dataCases,
  sizeCases,
  concurrencyCases,
];

function invalid(message: string): never {
  throw new CacheError('INVALID_OPTIONS', `runBackendConformance: ${message}`);
}

function validate<B extends CacheBackend>(options: ConformanceOptions<B>): void {
  if (options === null || typeof options !== 'object') invalid('options must be an object');
  if (typeof options.name !== 'string') invalid('name must be a string');
  if (typeof options.runner?.describe !== 'function' || typeof options.runner?.it !== 'function') {
    invalid('runner must have the describe and it functions of your test runner');
  }
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
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The cases of the suite for `options.capabilities`, each bound to `options.create`/`destroy`. Use it to run
 * single cases, to list them, or to drive a runner the suite does not know.
 */
export function conformanceCases<B extends CacheBackend>(options: ConformanceOptions<B>): ConformanceCase[] {
  validate(options);
  const caps = resolveCapabilities(options.capabilities, options.layers);
  const { inspect, valueOfSize } = options;
  return FACTORIES.flatMap((factory) => factory(caps)).map((definition) => ({
    id: definition.id,
    group: definition.group,
    title: definition.title,
    async run(): Promise<void> {
      let backend: B;
      try {
        backend = await options.create();
      } catch (error) {
        throw new ConformanceFailure(
          `create() failed before case "${definition.id}": ${describeError(error)}`,
          {
            cause: error,
          },
        );
      }
      let failure: { error: unknown } | undefined;
      try {
        const context = new CaseContext(backend, {
          caps,
          keyPrefix: options.keyPrefix ?? 'conformance',
          caseId: definition.id,
          exists: inspect === undefined ? undefined : (key) => inspect.exists(backend, key),
          valueOfSize,
        });
        await definition.run(context);
      } catch (error) {
        failure = { error };
      }
      try {
        await options.destroy?.(backend);
      } catch (error) {
        // The case's own failure says more than a cleanup failure that may follow from it.
        if (failure === undefined) {
          throw new ConformanceFailure(
            `destroy() failed after case "${definition.id}": ${describeError(error)}`,
            {
              cause: error,
            },
          );
        }
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
 * runBackendConformance({
 *   name: 'memory',
 *   runner: { describe, it },
 *   create: () => memoryBackend(),
 *   capabilities: { expiryPrecisionMs: 0, losslessKeys: true },
 * });
 */
export function runBackendConformance<B extends CacheBackend>(options: ConformanceOptions<B>): void {
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
