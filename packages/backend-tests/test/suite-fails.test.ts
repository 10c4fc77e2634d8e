import type { CacheBackend, CacheKey } from '@cache/core';
import { describe, expect, it } from 'vitest';
import {
  type ConformanceCapabilities,
  type ConformanceOptions,
  ConformanceFailure,
  conformanceCases,
} from '../src/index.js';
import {
  type InspectableBackend,
  type LazyDatabase,
  lazyTableBackend,
  type MapRawOptions,
  mapBackend,
  SyncMapBackend,
  type TypedFaults,
} from './support/map-backend.js';

const CAPS: ConformanceCapabilities = { expiryPrecisionMs: 0, losslessKeys: false };

type Extra<B extends CacheBackend> = Partial<Omit<ConformanceOptions<B>, 'runner' | 'create' | 'name'>>;

function suiteFor<B extends CacheBackend>(create: () => B, extra: Extra<B> = {}) {
  const list = conformanceCases<B>({
    name: 'broken',
    create,
    capabilities: CAPS,
    ...extra,
  });
  return {
    /** Runs case `id` and returns what it rejected with, or undefined when it passed. */
    async outcome(id: string): Promise<unknown> {
      const found = list.find((c) => c.id === id);
      if (found === undefined) throw new Error(`no case "${id}" in ${list.map((c) => c.id).join(', ')}`);
      return found.run().then(
        () => undefined,
        (error: unknown) => error,
      );
    },
  };
}

async function expectFailure(outcome: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await outcome;
  expect(error).toBeInstanceOf(ConformanceFailure);
  expect((error as Error).message).toMatch(message);
}

const inspect = { exists: (backend: InspectableBackend, key: CacheKey) => backend.store.has(key) };
const raw = (options: MapRawOptions) => suiteFor(() => mapBackend(options), { inspect });
const typed = (faults: TypedFaults) => suiteFor(() => new SyncMapBackend(faults));

describe('the suite fails broken backends', () => {
  it('an overwrite that keeps the old stale and expire (hitbox HSET)', async () => {
    const suite = raw({ faults: { keepOldMetadata: true } });
    await expectFailure(
      suite.outcome('overwrite-clears-metadata'),
      /overwrite without metadata.*stale: expected undefined, got \d+/,
    );
    await expectFailure(suite.outcome('overwrite-replaces-metadata'), /stale: expected undefined, got \d+/);
    expect(await suite.outcome('write-read')).toBeUndefined();
  });

  it('a backend that never expires', async () => {
    const suite = suiteFor(() => mapBackend({ faults: { dropExpire: true } }));
    await expectFailure(suite.outcome('short-ttl-expires'), /expected a miss/);
    await expectFailure(suite.outcome('expired-never-returned'), /expired at never|after its expire instant/);
    await expectFailure(suite.outcome('metadata-round-trip'), /expire: expected \d+ ± 0, got undefined/);
    expect(await suite.outcome('overwrite-data')).toBeUndefined();
  });

  it('a backend that hides expired entries but leaves them stored (sub-second TTL leak)', async () => {
    const seen = raw({ faults: { leakExpired: true } });
    await expectFailure(seen.outcome('short-ttl-expires'), /still holds an entry .* inspect\.exists/);
    // Without an inspector, delete reporting the expired entry gives it away.
    const blind = suiteFor(() => mapBackend({ faults: { leakExpired: true } }));
    await expectFailure(
      blind.outcome('short-ttl-expires'),
      /delete after expiry.*should report "missing", got .*deleted/,
    );
    expect(await seen.outcome('expired-never-returned')).toBeUndefined();
  });

  it('a backend that returns expired values', async () => {
    const suite = typed({ returnExpired: true });
    await expectFailure(suite.outcome('short-ttl-expires'), /after its expiry: expected a miss/);
    await expectFailure(suite.outcome('expired-never-returned'), /returned a value that expired at \d+/);
    expect(await suite.outcome('set-expired-removes')).toBeUndefined();
  });

  it('a backend that mangles byte 0xff', async () => {
    const suite = raw({ faults: { mangleFF: true } });
    await expectFailure(suite.outcome('data-binary'), /byte 255 differs: expected 0xff, got 0x3f/);
    await expectFailure(suite.outcome('large-value'), /byte \d+ differs: expected 0xff, got 0x3f/);
    expect(await suite.outcome('data-unicode')).toBeUndefined();
  });

  it('a backend whose keys ignore the version', async () => {
    const suite = raw({ faults: { ignoreVersion: true } });
    await expectFailure(
      suite.outcome('keys-differ-in-version'),
      /version: .*,0,"id","1"\] and .*,1,"id","1"\] share one entry/,
    );
    expect(await suite.outcome('keys-differ-in-prefix')).toBeUndefined();
  });

  it('a backend that writes data and metadata in two steps', async () => {
    const suite = raw({ faults: { splitWrite: true } });
    await expectFailure(suite.outcome('concurrent-writes'), /stale read with the data of writer \d+/);
  });

  it('a backend that truncates large values', async () => {
    // The 1 MiB kept includes the test format's one-byte tag.
    await expectFailure(
      raw({ faults: { truncateAt: 1024 * 1024 } }).outcome('large-value'),
      /expected 5242880 bytes, got 1048575/,
    );
  });

  it('a backend that silently ignores values over its limit', async () => {
    const suite = suiteFor(() => mapBackend({ maxBytes: 1000, faults: { ignoreOversized: true } }), {
      capabilities: { ...CAPS, maxValueBytes: 1000 },
      // The test format adds a one-byte tag.
      valueOfSize: (bytes) => new Uint8Array(bytes - 1).fill(7),
    });
    await expectFailure(
      suite.outcome('value-over-limit'),
      /accepted oversized set: data: expected a Uint8Array of 1000 bytes, got "previous"/,
    );
    expect(await suite.outcome('value-at-limit')).toBeUndefined();
  });

  it('a backend that treats falsy data as a miss', async () => {
    await expectFailure(
      typed({ falsyIsMiss: true }).outcome('data-falsy'),
      /falsy value #0: .*expected a hit, got undefined/,
    );
  });

  it('a backend that does not report info.source', async () => {
    await expectFailure(
      typed({ noSource: true }).outcome('info-source-hit'),
      /expected a non-empty label, got undefined/,
    );
  });

  it('a backend that declares lossless keys but stores null and "" alike', async () => {
    const suite = suiteFor(() => mapBackend(), { capabilities: { ...CAPS, losslessKeys: true } });
    await expectFailure(suite.outcome('keys-null-vs-empty'), /share one entry/);
  });

  it('a backend that declares a finer expiry precision than it has', async () => {
    const coarse = suiteFor(() => mapBackend({ faults: { dropExpire: true } }), {
      capabilities: { ...CAPS, expiryPrecisionMs: 5 },
    });
    await expectFailure(
      coarse.outcome('concurrent-writes'),
      /expire read with the data of writer \d+: expected \d+ ± 5, got undefined/,
    );
  });

  it('a backend that stores the whole ArrayBuffer under a view (Buffer.from(data.buffer))', async () => {
    const suite = suiteFor(() => mapBackend({ faults: { wholeBuffer: true } }), {
      raw: (backend) => backend.store,
    });
    await expectFailure(
      suite.outcome('raw-write-views'),
      /raw read of .*\(5 bytes at offset 3 of 64\).*expected 5 bytes, got 64/,
    );
    // Every format of ours hands write() bytes of their own buffer, so the typed cases cannot see it.
    expect(await suite.outcome('data-binary')).toBeUndefined();
    expect(await suite.outcome('large-value')).toBeUndefined();
  });

  it('fresh backends that race to create their table on first use (CREATE TABLE IF NOT EXISTS)', async () => {
    const lazy = () => {
      const db: LazyDatabase = { table: undefined };
      return suiteFor(() => lazyTableBackend(db));
    };
    await expectFailure(
      lazy().outcome('fresh-backends-first-use'),
      /23 of 24 writes made through 8 fresh backends on first use were lost/,
    );
    // One backend at a time initialises once: every other case passes.
    expect(await lazy().outcome('write-read')).toBeUndefined();
    expect(await lazy().outcome('concurrent-writes')).toBeUndefined();
  });
});
