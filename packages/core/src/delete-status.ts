/**
 * Outcome of a delete: `deleted` with the number of places (layers) that held the key, or `missing`.
 * A composition sums the counts of its layers.
 */
export type DeleteStatus =
  | { readonly kind: 'deleted'; readonly count: number }
  | { readonly kind: 'missing' };

const MISSING: DeleteStatus = Object.freeze({ kind: 'missing' });

/** Constructors and helpers for {@link DeleteStatus}. */
export const DeleteStatus = Object.freeze({
  /** Nothing was deleted. */
  missing: MISSING,
  /** `count` entries were deleted (`missing` when `count` is 0). */
  deleted(count = 1): DeleteStatus {
    return count > 0 ? Object.freeze({ kind: 'deleted', count }) : MISSING;
  },
  /** Adds two statuses: counts are summed, and missing + missing stays missing. */
  combine(a: DeleteStatus, b: DeleteStatus): DeleteStatus {
    return DeleteStatus.deleted((a.kind === 'deleted' ? a.count : 0) + (b.kind === 'deleted' ? b.count : 0));
  },
});
