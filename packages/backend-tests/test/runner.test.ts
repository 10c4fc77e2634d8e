import {
  CacheError,
  type CacheBackend,
  type CacheKey,
  type CacheValue,
  DeleteStatus,
  toCacheBackend,
} from '@cache/core';
import { describe, expect, it } from 'vitest';
import {
  type ConformanceCapabilities,
  ConformanceFailure,
  type ConformanceOptions,
  conformanceCases,
  runBackendConformance,
  type TestRunner,
} from '../src/index.js';
import { MapRawBackend, mapBackend } from './support/map-backend.js';

const CAPS: ConformanceCapabilities = { expiryPrecisionMs: 0, losslessKeys: false };

/** A runner that only records what the suite registers, like a third-party runner would. */
function recordingRunner() {
  const tests: { path: string[]; body: () => Promise<void> }[] = [];
  const stack: string[] = [];
  const runner: TestRunner = {
    describe(name, body) {
      stack.push(name);
      body();
      stack.pop();
    },
    it(name, body) {
      tests.push({ path: [...stack, name], body });
    },
  };
  return { runner, tests };
}

function idsFor(capabilities: ConformanceCapabilities): string[] {
  return conformanceCases({
    name: 'x',
    runner: recordingRunner().runner,
    create: () => mapBackend(),
    capabilities,
  }).map((c) => c.id);
}

async function settle(body: () => Promise<void>): Promise<unknown> {
  return body().then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('runBackendConformance with any runner', () => {
  it("accepts vitest's and node:test's describe and it as they are (checked by the type checker)", () => {
    type NodeTest = typeof import('node:test');
    const fromNode = (test: NodeTest): TestRunner => ({ describe: test.describe, it: test.it });
    const fromVitest: TestRunner = { describe, it };
    expect(typeof fromNode).toBe('function');
    expect(typeof fromVitest.it).toBe('function');
  });

  it('registers one describe per backend, one per topic and one test per case', () => {
    const { runner, tests } = recordingRunner();
    runBackendConformance({ name: 'map', runner, create: () => mapBackend(), capabilities: CAPS });
    const cases = conformanceCases({ name: 'map', runner, create: () => mapBackend(), capabilities: CAPS });
    expect(tests).toHaveLength(cases.length);
    expect(new Set(tests.map((t) => t.path[0]))).toEqual(new Set(['backend conformance: map']));
    expect(tests.map((t) => t.path.slice(1))).toEqual(cases.map((c) => [c.group, c.title]));
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    expect(new Set(cases.map((c) => c.title)).size).toBe(cases.length);
    for (const t of tests) expect(t.body.length).toBe(0);
  });

  it('runs the registered bodies to success against a correct backend', async () => {
    const { runner, tests } = recordingRunner();
    runBackendConformance({ name: 'map', runner, create: () => mapBackend(), capabilities: CAPS });
    const quick = tests.filter((t) => !['expiry', 'size'].includes(t.path[1] ?? ''));
    const outcomes = await Promise.all(quick.map((t) => settle(t.body)));
    expect(outcomes.filter((o) => o !== undefined)).toEqual([]);
  });

  it('destroys every backend it created, also after failing cases', async () => {
    const created = new Set<CacheBackend>();
    const destroyed: CacheBackend[] = [];
    const { runner, tests } = recordingRunner();
    runBackendConformance({
      name: 'never expires',
      runner,
      create: () => {
        const backend = mapBackend({ faults: { dropExpire: true } });
        created.add(backend);
        return backend;
      },
      destroy: async (backend) => {
        destroyed.push(backend);
      },
      capabilities: CAPS,
    });
    const picked = tests.filter((t) => ['metadata', 'overwrite', 'read and write'].includes(t.path[1] ?? ''));
    const outcomes = await Promise.all(picked.map((t) => settle(t.body)));
    expect(outcomes.some((o) => o instanceof ConformanceFailure)).toBe(true);
    expect(destroyed).toHaveLength(picked.length);
    expect(new Set(destroyed)).toEqual(created);
  });

  it('reports a failing create with the cause and does not call destroy', async () => {
    const cause = new Error('no connection');
    let destroys = 0;
    const [first] = conformanceCases({
      name: 'x',
      runner: recordingRunner().runner,
      create: async (): Promise<CacheBackend> => {
        throw cause;
      },
      destroy: () => {
        destroys++;
      },
      capabilities: CAPS,
    });
    const error = await settle(() => first!.run());
    expect(error).toBeInstanceOf(ConformanceFailure);
    expect((error as Error).message).toMatch(/create\(\) failed before case "write-read": no connection/);
    expect((error as Error).cause).toBe(cause);
    expect(destroys).toBe(0);
  });

  it('reports a failing destroy after a passing case, and the case failure over a destroy failure', async () => {
    const options = (faults = {}): ConformanceOptions => ({
      name: 'x',
      runner: recordingRunner().runner,
      create: () => mapBackend({ faults }),
      destroy: () => {
        throw new Error('close failed');
      },
      capabilities: CAPS,
    });
    const pass = conformanceCases(options()).find((c) => c.id === 'write-read')!;
    expect(String(await settle(() => pass.run()))).toMatch(
      /destroy\(\) failed after case "write-read": close failed/,
    );
    const broken = conformanceCases(options({ keepOldMetadata: true })).find(
      (c) => c.id === 'overwrite-clears-metadata',
    )!;
    expect(String(await settle(() => broken.run()))).toMatch(/stale: expected undefined/);
  });

  it('gives every test its own key namespace under keyPrefix', async () => {
    const prefixes: string[] = [];
    const recordKeys = (): CacheBackend => {
      const inner = mapBackend();
      const seen = (key: CacheKey) => prefixes.push(key.prefix);
      return {
        label: 'recording',
        get(key, info) {
          seen(key);
          return inner.get(key, info);
        },
        set(key, value) {
          seen(key);
          return inner.set(key, value);
        },
        delete(key) {
          seen(key);
          return inner.delete(key);
        },
      };
    };
    const cases = conformanceCases({
      name: 'x',
      runner: recordingRunner().runner,
      create: recordKeys,
      capabilities: CAPS,
      keyPrefix: 'app-7',
    });
    const writeRead = cases.find((c) => c.id === 'write-read')!;
    await writeRead.run();
    await writeRead.run();
    expect(prefixes.every((p) => p.startsWith('app-7:'))).toBe(true);
    expect(new Set(prefixes).size).toBe(2);
  });

  it('awaits backends that answer synchronously and ones that answer with promises', async () => {
    const store = new Map<string, CacheValue<unknown>>();
    const sync: CacheBackend = {
      label: 'plain',
      get: <T>(key: CacheKey, info?: { source?: string }) => {
        const value = store.get(key.canonical) as CacheValue<T> | undefined;
        if (value !== undefined && info !== undefined) info.source = 'plain';
        return value;
      },
      set: (key, value) => {
        store.set(key.canonical, value);
      },
      delete: (key) => (store.delete(key.canonical) ? { kind: 'deleted', count: 1 } : { kind: 'missing' }),
    };
    const cases = conformanceCases({
      name: 'x',
      runner: recordingRunner().runner,
      create: () => sync,
      capabilities: CAPS,
    });
    for (const id of ['write-read', 'delete-existing', 'info-source-hit', 'concurrent-writes']) {
      await cases.find((c) => c.id === id)!.run();
    }
  });

  it('expects delete to count every layer that held the entry (layers)', async () => {
    const twoLayers = (): CacheBackend => {
      const inner = mapBackend();
      return {
        label: 'two',
        get: (key, info) => inner.get(key, info),
        set: (key, value) => inner.set(key, value),
        delete: async (key) => {
          const status = await inner.delete(key);
          return status.kind === 'deleted' ? DeleteStatus.deleted(2) : status;
        },
      };
    };
    const run = (layers?: number) => {
      const options: ConformanceOptions = {
        name: 'x',
        runner: recordingRunner().runner,
        create: twoLayers,
        capabilities: CAPS,
      };
      const cases = conformanceCases(layers === undefined ? options : { ...options, layers });
      return settle(() => cases.find((c) => c.id === 'delete-existing')!.run());
    };
    expect(await run(2)).toBeUndefined();
    expect(String(await run())).toMatch(/deleted count of .*: expected 1, got 2/);
  });
});

describe('cleanup of what the suite wrote', () => {
  /** Backends from `create` all over one shared store, as a shared database or Redis would be. */
  function sharedStore() {
    const store = new MapRawBackend();
    const handed: CacheKey[][] = [];
    const options = {
      name: 'shared',
      create: () => toCacheBackend(store),
      destroy: (_backend: CacheBackend, written: readonly CacheKey[]) => {
        handed.push([...written]);
      },
      capabilities: CAPS,
      raw: () => store,
    };
    return { store, handed, options };
  }

  it('deletes every key every case wrote through the backend, and hands the keys to destroy', async () => {
    const { store, handed, options } = sharedStore();
    const cases = conformanceCases(options).filter((c) => !['expiry', 'size'].includes(c.group));
    for (const c of cases) await c.run();
    expect(store.size).toBe(0);
    // One destroy per backend: one per case, plus the eight fresh backends of the first-use case.
    expect(handed).toHaveLength(cases.length + 8);
    const keys = handed.flat();
    expect(keys.length).toBeGreaterThan(1000);
    expect(keys.every((key) => key.prefix.startsWith('conformance:'))).toBe(true);
    expect(handed.some((written) => written.some((key) => key.parts[0]?.name === 'view'))).toBe(true);
  });

  it('cleans up after a failing case too, and leaves the keys to destroy with cleanup: false', async () => {
    const { store, handed, options } = sharedStore();
    const pick = (id: string, extra = {}) =>
      conformanceCases({ ...options, ...extra }).find((c) => c.id === id)!;
    const failing = conformanceCases({
      ...options,
      create: () => toCacheBackend(new MapRawBackend({ faults: { keepOldMetadata: true } })),
    }).find((c) => c.id === 'overwrite-clears-metadata')!;
    expect(await settle(() => failing.run())).toBeInstanceOf(ConformanceFailure);
    await pick('many-keys').run();
    expect(store.size).toBe(0);
    await pick('many-keys', { cleanup: false }).run();
    expect(store.size).toBe(1000);
    expect(handed.at(-1)).toHaveLength(1000);
  });

  it('reports a delete that fails during cleanup after a passing case', async () => {
    const inner = mapBackend();
    const failingDelete: CacheBackend = {
      label: 'no-delete',
      get: (key, info) => inner.get(key, info),
      set: (key, value) => inner.set(key, value),
      delete: () => {
        throw new Error('delete refused');
      },
    };
    const [first] = conformanceCases({ name: 'x', create: () => failingDelete, capabilities: CAPS });
    expect(String(await settle(() => first!.run()))).toMatch(
      /cleanup \(delete of the keys it wrote\) failed after case "write-read": delete refused/,
    );
  });
});

describe('conformanceCases without a runner', () => {
  it('needs no runner to list and run cases', async () => {
    const cases = conformanceCases({ name: 'x', create: () => mapBackend(), capabilities: CAPS });
    await cases.find((c) => c.id === 'write-read')!.run();
  });
});

describe('the cases follow the declared capabilities', () => {
  it('writes views at the raw level only when the raw backend is given', () => {
    expect(idsFor(CAPS)).not.toContain('raw-write-views');
    const ids = conformanceCases({
      name: 'x',
      create: () => mapBackend(),
      capabilities: CAPS,
      raw: (backend) => backend.store,
    }).map((c) => c.id);
    expect(ids).toContain('raw-write-views');
    expect(ids).toContain('fresh-backends-first-use');
  });

  it('tests null vs "" only for lossless keys', () => {
    expect(idsFor({ ...CAPS, losslessKeys: true })).toContain('keys-null-vs-empty');
    expect(idsFor(CAPS)).toContain('keys-null-vs-empty-lossy');
    expect(idsFor(CAPS)).not.toContain('keys-null-vs-empty');
  });

  it('leaves bytes out for formats without binary data', () => {
    expect(idsFor(CAPS)).toContain('data-binary');
    expect(idsFor({ ...CAPS, binaryData: false })).not.toContain('data-binary');
  });

  it('tests 5 MiB without a small limit, and exactly the limit with one', () => {
    expect(idsFor(CAPS).filter((id) => id.includes('value') && !id.startsWith('keys'))).toEqual([
      'large-value',
    ]);
    expect(idsFor({ ...CAPS, maxValueBytes: 1000 })).toEqual(
      expect.arrayContaining(['value-at-limit', 'value-over-limit']),
    );
    expect(idsFor({ ...CAPS, maxValueBytes: 1000 })).not.toContain('large-value');
    expect(idsFor({ ...CAPS, maxValueBytes: 512 * 1024 * 1024 })).not.toContain('value-at-limit');
  });
});

describe('options are checked', () => {
  const base: ConformanceOptions = {
    name: 'x',
    runner: recordingRunner().runner,
    create: () => mapBackend(),
    capabilities: CAPS,
  };
  const bad: [string, unknown][] = [
    ['runner', { ...base, runner: { describe: () => {} } }],
    ['create', { ...base, create: undefined }],
    ['expiryPrecisionMs', { ...base, capabilities: { ...CAPS, expiryPrecisionMs: -1 } }],
    ['losslessKeys', { ...base, capabilities: { expiryPrecisionMs: 0 } }],
    ['maxValueBytes', { ...base, capabilities: { ...CAPS, maxValueBytes: 0 } }],
    ['layers', { ...base, layers: 0 }],
    ['inspect', { ...base, inspect: {} }],
    ['raw', { ...base, raw: {} }],
    ['cleanup', { ...base, cleanup: 'yes' }],
  ];
  it.each(bad)('rejects a bad %s with INVALID_OPTIONS', (what, options) => {
    let error: unknown;
    try {
      runBackendConformance(options as ConformanceOptions);
    } catch (caught) {
      error = caught;
    }
    expect(CacheError.is(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain(what);
  });
});
