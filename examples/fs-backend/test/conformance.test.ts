import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runBackendConformance } from '@cache/backend-tests';
import type { Format } from '@cache/core';
import { createFsBackend, type FsBackend } from '../src/index.js';

const MAX_VALUE_BYTES = 1024 * 1024;
const directories = new WeakMap<FsBackend, string>();

/**
 * A custom format for the binary half of the suite: `Uint8Array` data is stored raw behind a one-byte tag, anything
 * else as JSON in which nested byte arrays become `{ "$bytes": base64 }`. Shows a backend taking any `Format`.
 */
const jsonOrBytes: Format = {
  id: 'json-or-bytes',
  serialize(value) {
    const raw = value instanceof Uint8Array;
    const body = raw
      ? value
      : new TextEncoder().encode(
          JSON.stringify(value, (_, v: unknown) =>
            v instanceof Uint8Array ? { $bytes: Buffer.from(v).toString('base64') } : v,
          ),
        );
    const out = new Uint8Array(body.length + 1);
    out[0] = raw ? 1 : 0;
    out.set(body, 1);
    return out;
  },
  deserialize(bytes) {
    const body = bytes.subarray(1);
    if (bytes[0] === 1) return body;
    return JSON.parse(new TextDecoder().decode(body), (_, v: unknown) => {
      const tagged = v as { $bytes?: unknown } | null;
      return typeof tagged?.$bytes === 'string' && Object.keys(v as object).length === 1
        ? new Uint8Array(Buffer.from(tagged.$bytes, 'base64'))
        : v;
    });
  },
};

function suite(name: string, format: Format | undefined, binaryData: boolean, framing: number): void {
  // The suite under node:test rather than the monorepo's vitest: any runner with describe and it will do.
  runBackendConformance<FsBackend>({
    name,
    runner: { describe, it },
    async create() {
      const directory = await mkdtemp(join(tmpdir(), 'cache-backend-fs-conformance-'));
      const backend = createFsBackend({
        directory,
        maxValueBytes: MAX_VALUE_BYTES,
        ...(format && { format }),
      });
      directories.set(backend, directory);
      return backend;
    },
    async destroy(backend) {
      await backend.close();
      await rm(directories.get(backend) ?? '', { recursive: true, force: true });
    },
    // The raw level gets views into larger buffers: the file must hold the view's bytes only.
    raw: (backend) => backend.store,
    // Expired files go when read or swept, not at their expiry instant: the inspector reports what a sweep leaves,
    // so the suite's "nothing left behind" checks cover the sweep too.
    inspect: {
      async exists(backend, key) {
        await backend.sweep();
        return stat(backend.pathOf(key)).then(
          () => true,
          () => false,
        );
      },
    },
    capabilities: { expiryPrecisionMs: 0, maxValueBytes: MAX_VALUE_BYTES, losslessKeys: true, binaryData },
    // The size cases' data must take exactly `bytes` once serialized.
    valueOfSize: (bytes) =>
      binaryData ? new Uint8Array(bytes - framing).fill(0xa5) : 'x'.repeat(bytes - framing),
  });
}

suite('cache-backend-fs (JSON)', undefined, false, 2);
suite('cache-backend-fs (custom binary format)', jsonOrBytes, true, 1);
