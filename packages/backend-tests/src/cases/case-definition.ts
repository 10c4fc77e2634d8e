import type { CaseContext, ResolvedCapabilities } from '../case-context.js';

/** One conformance case before it is bound to a backend. */
export interface CaseDefinition {
  /** Stable identifier, e.g. `"overwrite-clears-metadata"`. */
  readonly id: string;
  /** The `describe` block the case is shown under. */
  readonly group: string;
  /** The test name: the guarantee it checks, as a sentence. */
  readonly title: string;
  /** Runs the case; rejects with a `ConformanceFailure` when the backend breaks the guarantee. */
  run(t: CaseContext): Promise<void>;
}

/** Builds the cases of one topic for the declared capabilities (cases that do not apply are left out). */
export type CaseFactory = (caps: ResolvedCapabilities) => CaseDefinition[];
