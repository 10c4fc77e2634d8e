import { BreakerBackend, type CacheBackend, CircuitBreaker, Composition } from '@cache/core';

/** How deep a store is searched for breakers: compositions nest, but not without end. */
const MAX_DEPTH = 16;

/**
 * The circuit breakers inside `store`, so the cache can report their state changes as its own events: a
 * backend's own breaker (`RedisBackend.circuit`), a `breaker()` decorator, and those of every tier of a
 * composition or of `coherentTiers` (its `composition`).
 */
export function findCircuits(store: CacheBackend): CircuitBreaker[] {
  const found = new Set<CircuitBreaker>();
  const visit = (backend: unknown, depth: number): void => {
    if (depth > MAX_DEPTH || backend === null || typeof backend !== 'object') return;
    const parts = backend as { readonly circuit?: unknown; readonly composition?: unknown };
    if (parts.circuit instanceof CircuitBreaker) found.add(parts.circuit);
    if (backend instanceof BreakerBackend) visit(backend.inner, depth + 1);
    if (backend instanceof Composition) {
      visit(backend.l1, depth + 1);
      visit(backend.l2, depth + 1);
    }
    if (parts.composition instanceof Composition) visit(parts.composition, depth + 1);
  };
  visit(store, 0);
  return [...found];
}
