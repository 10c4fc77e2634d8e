/** The name of a backend in reports and errors. Composed labels read from the outside in: `"outer.inner.redis"`. */
export type BackendLabel = string;

/** Helpers for {@link BackendLabel}. */
export const BackendLabel = Object.freeze({
  /** Joins an outer and an inner label: `compose("cache", "redis")` is `"cache.redis"`. */
  compose(outer: BackendLabel, inner: BackendLabel): BackendLabel {
    if (outer === '') return inner;
    if (inner === '') return outer;
    return `${outer}.${inner}`;
  },
});
