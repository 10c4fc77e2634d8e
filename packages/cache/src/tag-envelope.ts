import { CacheValue } from '@cache/core';

/**
 * Passive tags. A tagged entry is stored in an envelope that carries its tags and the instant its data was
 * read (`at`: the loader's start, or the `set`); invalidating a tag writes the tag's invalidation instant under
 * a reserved key of the same store. A read of a tagged entry compares the two: an entry whose `at` is not later
 * than one of its tags' instants was written before the invalidation and is never served, fresh or stale.
 * Nothing is scanned or deleted, so an invalidation costs one write per tag whatever the number of entries.
 */

/** The envelope's fields. Reserved: a user value that is an object with `@cache/tags` is read as an envelope. */
const TAGS = '@cache/tags';
const AT = '@cache/at';

/** How a tagged value is stored: the data inside, its tags and the instant its data was read. */
export interface TaggedData {
  readonly '@cache/tags': readonly string[];
  readonly '@cache/at': number;
  readonly data: unknown;
}

/** True when stored data is a tag envelope. One property read on untagged data. */
export function isTagged(data: unknown): data is TaggedData {
  return typeof data === 'object' && data !== null && (data as { [TAGS]?: unknown })[TAGS] !== undefined;
}

/**
 * What `invalidateTags` does to the entries it reaches:
 * - `'delete'` (default): they are gone: never served again, not even stale or as a fail-safe fallback;
 * - `'expire'`: they turn stale: served as stale values within their grace window (revalidated, fail-safe),
 *   like an entry past its `ttlMs`. An entry without grace is gone.
 */
export type InvalidationMode = 'delete' | 'expire';

/** Options of `invalidateTags`. */
export interface InvalidateTagsOptions {
  /** Whether the tagged entries are gone (`'delete'`) or only stale (`'expire'`). @default 'delete' */
  readonly mode?: InvalidationMode;
}

/**
 * A tagged entry as read and vetted: its own data, with its tags and the instant its data was read, so a stale
 * value kept while a loader runs can be vetted again before it stands in for a failed loader.
 */
export class TaggedValue<T> extends CacheValue<T> {
  readonly tags: readonly string[];
  readonly at: number;

  constructor(
    data: T,
    expire: number | undefined,
    stale: number | undefined,
    tags: readonly string[],
    at: number,
  ) {
    super(data, expire, stale);
    this.tags = tags;
    this.at = at;
  }
}

/** The verdict on a tagged entry. */
export type TagVerdict = 'valid' | 'expired' | 'deleted';

/**
 * The stored form of `value` with `tags`, whose data was read at `at`: an envelope, and an expire cut to
 * `at + maxLifetimeMs` so the tags' invalidation instants (kept that long) outlive it.
 */
export function wrapTagged<T>(
  value: CacheValue<T>,
  tags: readonly string[],
  at: number,
  maxLifetimeMs: number,
): CacheValue<TaggedData> {
  const data: TaggedData = { [TAGS]: tags, [AT]: at, data: value.data };
  const limit = at + maxLifetimeMs;
  const expire = value.expire === undefined ? limit : Math.min(value.expire, limit);
  const stale = value.stale === undefined || value.stale >= expire ? undefined : value.stale;
  return new CacheValue(data, expire, stale);
}
