export type {
  ConformanceCapabilities,
  ConformanceCaseOptions,
  ConformanceOptions,
  StorageInspector,
  TestRunner,
} from './options.js';
export type { ConformanceCase } from './run-conformance.js';
export { conformanceCases, runBackendConformance } from './run-conformance.js';
export { ConformanceFailure } from './assert.js';
