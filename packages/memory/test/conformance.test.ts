import { runBackendConformance } from '@cache/backend-tests';
import { describe, it } from 'vitest';
import { estimateSize, memoryBackend } from '../src/index.js';

runBackendConformance({
  name: 'memory',
  runner: { describe, it },
  create: () => memoryBackend({ maxEntries: 100_000 }),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: true },
});

runBackendConformance({
  name: 'memory (clone: true)',
  runner: { describe, it },
  create: () => memoryBackend({ maxEntries: 100_000, clone: true }),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: true },
});

runBackendConformance({
  name: 'memory (maxBytes, default sizeOf)',
  runner: { describe, it },
  create: () => memoryBackend({ maxBytes: 64 * 1024 * 1024 }),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: true },
});

// Charging exactly the data's bytes makes maxBytes a per-value limit the suite can test at and over the edge.
const LIMIT = 1024 * 1024;
runBackendConformance({
  name: 'memory (maxBytes as the value limit)',
  runner: { describe, it },
  create: () =>
    memoryBackend({ maxBytes: LIMIT, maxEntries: 10_000, sizeOf: (value) => estimateSize(value.data) }),
  capabilities: { expiryPrecisionMs: 0, losslessKeys: true, maxValueBytes: LIMIT },
});
