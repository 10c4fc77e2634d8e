import { defineConfig } from 'vitest/config';

// Real servers, real timeouts: generous limits, and at most two files at once so the fault tests' deadline checks
// are not starved of CPU by the conformance runs (the machine has two cores).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
