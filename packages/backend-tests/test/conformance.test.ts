import { describe, it } from 'vitest';
import { runBackendConformance } from '../src/index.js';
import { type InspectableBackend, mapBackend, SyncMapBackend } from './support/map-backend.js';
import { canonicalKeys, jsonOnly } from './support/test-formats.js';

const inspect = {
  exists: (backend: InspectableBackend, key: Parameters<InspectableBackend['get']>[0]) =>
    backend.store.has(key),
};

// The reference backend with the default, lossy url-encoded keys.
runBackendConformance({
  name: 'map (url-encoded keys)',
  runner: { describe, it },
  create: () => mapBackend(),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: false },
  inspect,
  raw: (backend) => backend.store,
});

// Lossless keys add the null-vs-"" case.
runBackendConformance({
  name: 'map (lossless keys)',
  runner: { describe, it },
  create: async () => mapBackend({ keyFormat: canonicalKeys }),
  destroy: async (backend) => backend.close?.(),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: true },
  inspect,
  raw: (backend) => backend.store,
});

// A JSON format cannot carry bytes: no binary case, string values in the size cases.
runBackendConformance({
  name: 'map (JSON format)',
  runner: { describe, it },
  create: () => mapBackend({ valueFormat: jsonOnly }),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: false, binaryData: false },
});

// A size limit: the at-limit case stores exactly 64 KiB (the test format adds one tag byte).
const LIMIT = 64 * 1024;
runBackendConformance({
  name: 'map (64 KiB limit)',
  runner: { describe, it },
  create: () => mapBackend({ maxBytes: LIMIT }),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: false, maxValueBytes: LIMIT },
  valueOfSize: (bytes) => new Uint8Array(bytes - 1).fill(0xa5),
});

// A backend that answers synchronously, like an in-process cache.
runBackendConformance({
  name: 'sync map',
  runner: { describe, it },
  create: () => new SyncMapBackend(),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: true },
});
