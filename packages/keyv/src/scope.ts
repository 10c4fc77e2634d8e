import { CacheKey } from '@cache/core';

/**
 * The `CacheKey.prefix` of one Keyv namespace: `<root>:<namespace>:`, the namespace URI-encoded so that no
 * namespace's prefix starts another's (`a` and `a:b`, `users` and `users2`), which `clearPrefix` relies on. No
 * namespace is the empty one, `<root>::`, a scope of its own: its `clear()` leaves named namespaces alone.
 */
export function scopePrefix(root: string, namespace: string | undefined): string {
  return `${root}:${encodeURIComponent(namespace ?? '')}:`;
}

/**
 * The cache key of a Keyv store key. The key is kept whole, as Keyv gives it (with its `namespace:` start when
 * Keyv adds one), so two distinct store keys never share an entry whatever `useKeyPrefix` says.
 */
export function storeKey(prefix: string, key: string): CacheKey {
  return CacheKey.of(key, null, { prefix });
}
