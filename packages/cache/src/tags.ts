import {
  type Awaitable,
  type CacheBackend,
  CacheError,
  CacheKey,
  CacheValue,
  Composition,
  isPromiseLike,
} from '@cache/core';
import { readMany, writeMany } from './store-batch.js';
import {
  type InvalidationMode,
  type TaggedData,
  TaggedValue,
  type TagVerdict,
  wrapTagged,
} from './tag-envelope.js';

// The envelope's helpers, where the tag clock's users find them too.
export type { InvalidateTagsOptions, InvalidationMode, TaggedData, TagVerdict } from './tag-envelope.js';
export { isTagged, TaggedValue } from './tag-envelope.js';

/**
 * The invalidation instants of tags (see `tag-envelope.ts` for the entries they guard). Invalidating a tag
 * writes its instant under a reserved key of the same store, then the namespace's change token; a process
 * reads the instants of the tags it meets, trusts them for `tagCacheMs`, and renews that trust with one read
 * of the change token.
 */

/** The invalidation instants of one tag (0: never), and until when this process trusts them. */
interface Known {
  deleted: number;
  expired: number;
  until: number;
  /** When the read of these instants was sent. */
  sent: number;
  /** The change token this process had read before it sent that read (see `TagClock`). */
  token: string | undefined;
  /** A renewal of the trust in it is scheduled. */
  due: boolean;
}

/** Where a valid verdict is remembered on a stored tag envelope (invisible to JSON, CBOR and structured clone). */
const VERDICT: unique symbol = Symbol('cache tag verdict');

/** A verdict remembered on an envelope: valid for `clock` while its generation holds and until `renewAt`. */
interface Memo {
  readonly clock: TagClock;
  readonly generation: number;
  readonly renewAt: number;
}

/** How stale the hit path's reading of the clock may be (see `TagClock.#time`). */
const CLOCK_TICK_MS = 50;

/** Most tags read in one batch (two keys each). */
const TAGS_PER_READ = 64;

/** Most tags whose instants a process remembers; the oldest is forgotten first (and read again if needed). */
const KNOWN_LIMIT = 10_000;

/** The reserved key prefix of tag instants: outside every namespace, so `clear()` never removes them. */
const TAG_KEY_PREFIX = '@tags:';

/** The store a tag instant is read from: never a memory tier that other processes cannot invalidate. */
function tagReader(store: CacheBackend): { reader: CacheBackend; coherent: boolean } {
  // coherentTiers: its memory tier is kept coherent across processes; reads go through it.
  const composition = (store as { readonly composition?: unknown }).composition;
  if (composition instanceof Composition) return { reader: store, coherent: true };
  // A plain composition: the far tier is the shared one; a near memory tier would keep an old instant.
  let reader = store;
  while (reader instanceof Composition) reader = reader.l2 as CacheBackend;
  return { reader, coherent: false };
}

/** Settings of the tag instants of one cache (and all its namespaces). */
export interface TagSettings {
  readonly store: CacheBackend;
  /** The root namespace prefix: tags are shared by a cache and its child namespaces. */
  readonly prefix: string;
  readonly now: () => number;
  readonly cacheMs: number;
  readonly maxLifetimeMs: number;
}

/**
 * The invalidation instants of tags, read from the store, deduplicated while a read is under way and trusted
 * for `cacheMs` (0 under `coherentTiers`, whose memory tier answers them synchronously and coherently).
 */
export class TagClock {
  readonly #store: CacheBackend;
  readonly #reader: CacheBackend;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #cacheMs: number;
  /** How long this process trusts instants it read (`tagCacheMs`; 0 under `coherentTiers`). */
  readonly cacheMs: number;
  readonly maxLifetimeMs: number;
  readonly #known = new Map<string, Known>();
  readonly #pending = new Map<string, Promise<Known>>();
  /** Tags in use whose trust ends soon, gathered until the event loop turns (see {@link #refresh}). */
  readonly #due = new Set<string>();
  /** The reserved key of the namespace's change token, rewritten by every invalidation after its instants. */
  readonly #tokenKey: CacheKey;
  /** The change token this process read last (`undefined`: none read yet). */
  #token: string | undefined;
  /** The read of the change token under way. */
  #checking: Promise<void> | undefined;
  /** Bumped whenever an instant this process knows changes: verdicts remembered before it no longer hold. */
  #generation = 0;
  /** The hit path's clock (see {@link #time}). */
  #clock = 0;
  #clockReads = 0;
  #ticking = false;
  #usedSinceTick = false;
  /** Instants used less than this before they lapse are read again in the background. */
  readonly #refreshMs: number;
  /** The latest instant this process invalidated a tag at. */
  #lastInvalidation = 0;

  constructor(settings: TagSettings) {
    const { reader, coherent } = tagReader(settings.store);
    this.#store = settings.store;
    this.#reader = reader;
    this.#prefix = `${TAG_KEY_PREFIX}${settings.prefix}`;
    this.#now = settings.now;
    this.#cacheMs = coherent ? 0 : settings.cacheMs;
    this.cacheMs = this.#cacheMs;
    this.#refreshMs = this.#cacheMs / 2;
    this.maxLifetimeMs = settings.maxLifetimeMs;
    this.#tokenKey = new CacheKey(this.#prefix, 0, [{ name: 'changed', value: null }]);
  }

  /**
   * The clock for the hit path: a reading at most {@link CLOCK_TICK_MS} old (plus event-loop delay), refreshed by
   * a timer while tags are read and by a real reading every 256 calls; a real reading when idle. A clock read
   * costs about as much as the rest of a tagged hit's checks, so the hit path mostly skips it; the trust in tag
   * instants may last that much longer than `tagCacheMs`.
   */
  #time(): number {
    this.#usedSinceTick = true;
    if (!this.#ticking || (++this.#clockReads & 255) === 0) return this.#readClock();
    return this.#clock;
  }

  #readClock(): number {
    this.#clock = this.#now();
    if (!this.#ticking) {
      this.#ticking = true;
      this.#tick();
    }
    return this.#clock;
  }

  /** Refreshes the cached clock every tick while it is used; stops after a tick without use (unref'd). */
  #tick(): void {
    const timer = setTimeout(() => {
      if (!this.#usedSinceTick) {
        this.#ticking = false;
        return;
      }
      this.#usedSinceTick = false;
      this.#clock = this.#now();
      this.#tick();
    }, CLOCK_TICK_MS);
    (timer as { unref?: () => void }).unref?.();
  }

  /**
   * The instant to record as a tagged value's `at` for data read from now on: the clock, or just after this
   * process's latest invalidation when that happened in the same millisecond (it came first).
   */
  stamp(): number {
    const now = this.#now();
    return now > this.#lastInvalidation ? now : this.#lastInvalidation + 1;
  }

  /** The reserved keys of `tag`'s two instants. */
  keysOf(tag: string): [deleted: CacheKey, expired: CacheKey] {
    return [
      new CacheKey(this.#prefix, 0, [{ name: 'deleted', value: tag }]),
      new CacheKey(this.#prefix, 0, [{ name: 'expired', value: tag }]),
    ];
  }

  /**
   * The stored form of `value` with `tags`, whose data was read at `at`: an envelope, and an expire cut to
   * `at + maxTaggedLifetimeMs` so the tags' instants outlive it.
   */
  wrap<T>(value: CacheValue<T>, tags: readonly string[], at: number): CacheValue<TaggedData> {
    return wrapTagged(value, tags, at, this.maxLifetimeMs);
  }

  /** Starts reading the instants of `tags` unless they are known (`getOrSet` with `tags`: beside the entry read). */
  prefetch(tags: readonly string[]): void {
    const now = this.#now();
    let missing: string[] | undefined;
    for (const tag of tags) {
      if (this.#fresh(tag, now) || this.#pending.has(tag)) continue;
      if (missing === undefined) missing = [tag];
      else missing.push(tag);
    }
    if (missing !== undefined) this.#fetch(missing).catch(() => undefined);
  }

  /**
   * The stored `value` (a tag envelope) as the value to serve: its own data with the same instants, stale at
   * once when a tag was invalidated with `'expire'`, or `undefined` when one was invalidated with `'delete'`
   * after its data was read (or expired without a grace window). Synchronous when the instants are known.
   * Rejects (throws) when they cannot be read: a tagged value is never served unchecked.
   */
  vet<T>(value: CacheValue<unknown>, since = Number.POSITIVE_INFINITY): Awaitable<CacheValue<T> | undefined> {
    const envelope = value.data as TaggedData;
    const tags = envelope['@cache/tags'];
    const at = envelope['@cache/at'];
    if (!Array.isArray(tags) || typeof at !== 'number') {
      throw new CacheError('CORRUPT_ENTRY', 'a tagged entry has no valid tag list or instant');
    }
    const verdict = this.verdict(tags, at, since);
    const finish = (v: TagVerdict): CacheValue<T> | undefined => {
      if (v === 'deleted') return undefined;
      const data = envelope.data as T;
      if (v === 'valid') return new TaggedValue(data, value.expire, value.stale, tags, at);
      // 'expire': stale from now on, within its grace window; without one there is nothing left to serve.
      if (value.stale === undefined) return undefined;
      return new TaggedValue(data, value.expire, Math.min(value.stale, this.#now()), tags, at);
    };
    return isPromiseLike(verdict) ? Promise.resolve(verdict).then(finish) : finish(verdict);
  }

  /** {@link verdict} from what this process knows now, without a read: `undefined` when it does not know. */
  knownVerdict(tags: readonly string[], at: number): TagVerdict | undefined {
    const map = this.#known;
    const now = this.#cacheMs === 0 ? this.#now() : this.#time();
    let result: TagVerdict = 'valid';
    for (let i = 0; i < tags.length; i++) {
      const known = map.get(tags[i] as string);
      if (known === undefined) return undefined;
      if (known.deleted >= at) return 'deleted';
      const left = known.until - now;
      if (left <= 0) return undefined;
      if (left < this.#refreshMs && !known.due) this.#refreshAhead(tags[i] as string, known);
      if (known.expired >= at) result = 'expired';
    }
    return result;
  }

  /**
   * True when the stored tag envelope `data` may be served as it is: {@link knownVerdict} is `'valid'`. The
   * answer is remembered on the envelope (a memory store hands back the same object on every hit) for this clock,
   * until an instant changes (`#generation`) or the trust in one of its tags may lapse or be renewed: a repeated
   * hit then skips the per-tag lookups.
   */
  servable(data: TaggedData): boolean {
    const memo = (data as { [VERDICT]?: Memo })[VERDICT];
    if (memo !== undefined && memo.clock === this && memo.generation === this.#generation) {
      if (memo.renewAt > (this.#cacheMs === 0 ? this.#now() : this.#time())) return true;
    }
    const tags = data['@cache/tags'];
    if (this.knownVerdict(tags, data['@cache/at']) !== 'valid') return false;
    if (this.#cacheMs > 0) {
      // Valid until the first of its tags is due for renewal (then the full check runs and renews it).
      let renewAt = Number.POSITIVE_INFINITY;
      for (const tag of tags) {
        const known = this.#known.get(tag);
        if (known !== undefined) renewAt = Math.min(renewAt, known.until - this.#refreshMs);
      }
      (data as { [VERDICT]?: Memo })[VERDICT] = { clock: this, generation: this.#generation, renewAt };
    }
    return true;
  }

  /**
   * Reads `tag`'s instants again before this process stops trusting them, so a tag in use never makes a read
   * wait: the tags due are read together, once the event loop turns.
   */
  #refreshAhead(tag: string, known: Known): void {
    known.due = true;
    if (this.#pending.has(tag)) return;
    this.#due.add(tag);
    if (this.#due.size === 1) setTimeout(() => this.#refresh(), 0);
  }

  /**
   * Renews the trust in the tags due with ONE read, whatever their number: the namespace's change token.
   * Every invalidation writes a new random token after its instants. A tag whose instants were read after this
   * process had read token T (its `token`) is still current when the token read now is still T: any
   * invalidation that resolved before this read would have replaced T, after writing its instants. Tags read
   * under another token are read again (in batches), under the token just read.
   */
  #refresh(): void {
    const due = [...this.#due];
    this.#due.clear();
    this.#check()
      .then(() => {
        // Tags in use that the token did not renew (read under another token): read them again.
        const now = this.#now();
        const stale = due.filter((tag) => {
          const known = this.#known.get(tag);
          return known !== undefined && known.until - now < this.#refreshMs && !this.#pending.has(tag);
        });
        return stale.length > 0 ? this.#fetch(stale) : undefined;
      })
      .catch(() => undefined) // the tags lapse, and the next read of each reads it again
      .finally(() => {
        for (const tag of due) {
          const known = this.#known.get(tag);
          if (known !== undefined) known.due = false;
        }
      });
  }

  /**
   * Reads the change token (one read for every caller meanwhile) and renews every tag this process knows that
   * was read under the same token: any invalidation that resolved before this read would have replaced it.
   */
  #check(): Promise<void> {
    if (this.#checking !== undefined) return this.#checking;
    const sent = this.#now();
    const checking = Promise.resolve(readMany<string>(this.#reader, [this.#tokenKey])).then(([result]) => {
      if (result instanceof CacheError) throw result;
      const token = typeof result?.data === 'string' ? result.data : '';
      this.#token = token;
      const until = sent + this.#cacheMs;
      for (const known of this.#known.values()) {
        if (known.token === token && known.until < until) known.until = until;
      }
    });
    this.#checking = checking;
    const done = (): void => {
      this.#checking = undefined;
    };
    checking.then(done, done);
    return checking;
  }

  /**
   * Whether data read at `at` with `tags` may still be served. Instants are trusted for `tagCacheMs`, and also
   * when their read was sent at or after `since` (the start of the caller's own lookup, which prefetched them).
   */
  verdict(tags: readonly string[], at: number, since = Number.POSITIVE_INFINITY): Awaitable<TagVerdict> {
    const now = this.#now();
    const missing: string[] = [];
    let result: TagVerdict = 'valid';
    for (const tag of tags) {
      const known = this.#known.get(tag);
      if (known === undefined || (known.until <= now && known.sent < since)) {
        missing.push(tag);
        continue;
      }
      if (known.until - now < this.#refreshMs && !known.due) this.#refreshAhead(tag, known);
      if (known.deleted >= at) return 'deleted';
      if (known.expired >= at) result = 'expired';
    }
    if (missing.length === 0) return result;
    return this.#instants(missing).then((instants) => {
      for (const known of instants) {
        if (known.deleted >= at) return 'deleted';
        if (known.expired >= at) result = 'expired';
      }
      return result;
    });
  }

  /** Without a read: true when this process already knows that `tags` were invalidated since `at`. */
  knownInvalid(tags: readonly string[], at: number): boolean {
    for (const tag of tags) {
      const known = this.#known.get(tag);
      if (known !== undefined && known.deleted >= at) return true;
    }
    return false;
  }

  /**
   * Invalidates `tags` now: this process stops serving their entries at once, and every process sharing the
   * store once it has written each tag's instant (never moving an instant back). Rejects when a write failed,
   * naming the tier.
   */
  async invalidate(tags: readonly string[], mode: InvalidationMode): Promise<void> {
    const at = Math.max(this.#now(), this.#lastInvalidation);
    this.#lastInvalidation = at;
    const field = mode === 'delete' ? 'deleted' : 'expired';
    for (const tag of tags) {
      const known = this.#known.get(tag);
      if (known === undefined) {
        this.#remember(tag, {
          deleted: 0,
          expired: 0,
          until: 0,
          sent: 0,
          token: undefined,
          due: false,
          [field]: at,
        });
        this.#generation++;
      } else {
        known[field] = Math.max(known[field], at);
        this.#generation++;
      }
    }
    const keys = tags.map((tag) => this.keysOf(tag)[mode === 'delete' ? 0 : 1]);
    // A later instant written meanwhile by another process wins: instants only move forward. A failed read
    // leaves `at` (the write still goes ahead).
    const current = await readMany<number>(this.#reader, keys);
    const entries = keys.map((key, i) => {
      const stored = current[i];
      const previous = stored instanceof CacheValue && typeof stored.data === 'number' ? stored.data : 0;
      const instant = Math.max(at, previous);
      return { key, value: new CacheValue(instant, instant + this.maxLifetimeMs) };
    });
    const written = await writeMany(this.#store, entries);
    const failed = written.find((outcome) => outcome !== undefined);
    if (failed !== undefined) throw failed;
    // Then, and only then, a new change token: a process that reads it reads the instants above after it.
    const token = `${at.toString(36)}.${Math.random().toString(36).slice(2, 12)}`;
    const [tokenFailed] = await writeMany(this.#store, [
      { key: this.#tokenKey, value: new CacheValue(token, at + this.maxLifetimeMs) },
    ]);
    if (tokenFailed !== undefined) throw tokenFailed;
  }

  #fresh(tag: string, now: number): boolean {
    const known = this.#known.get(tag);
    return known !== undefined && known.until > now;
  }

  /** The instants of `tags`, read once for all callers asking meanwhile. */
  #instants(tags: readonly string[]): Promise<Known[]> {
    // Tags read under the token this process holds are renewed together by one token read (a reader that comes
    // back after a pause pays one round trip, not one per tag); the others are read.
    const token = this.#token;
    if (
      this.#cacheMs > 0 &&
      token !== undefined &&
      tags.some((tag) => this.#known.get(tag)?.token === token)
    ) {
      return this.#check().then(
        () => this.#readUnlessTrusted(tags),
        () => this.#readUnlessTrusted(tags),
      );
    }
    return this.#readUnlessTrusted(tags);
  }

  /** The instants of `tags`: those trusted now as they are, the others read (once for every caller meanwhile). */
  #readUnlessTrusted(tags: readonly string[]): Promise<Known[]> {
    const now = this.#now();
    const trusted = (tag: string): Known | undefined => {
      const known = this.#known.get(tag);
      return known !== undefined && known.until > now ? known : undefined;
    };
    if (tags.every((tag) => trusted(tag) !== undefined)) {
      return Promise.resolve(tags.map((tag) => trusted(tag) as Known));
    }
    const missing = tags.filter((tag) => trusted(tag) === undefined && !this.#pending.has(tag));
    if (missing.length > 0) this.#fetch(missing).catch(() => undefined);
    // Every tag not trusted has a read under way now: #fetch registers its reads synchronously.
    return Promise.all(tags.map((tag) => trusted(tag) ?? (this.#pending.get(tag) as Promise<Known>)));
  }

  /**
   * Reads both instants of each tag in one batch and remembers them (merged: instants only move forward). Many
   * tags go in several batches, so a refresh of every tag in use stays within a store's bound on operations in
   * flight (`RedisBackend`'s `maxInFlight`).
   */
  #fetch(tags: readonly string[]): Promise<void> {
    if (tags.length > TAGS_PER_READ) {
      const parts: Promise<void>[] = [];
      for (let from = 0; from < tags.length; from += TAGS_PER_READ) {
        parts.push(this.#fetch(tags.slice(from, from + TAGS_PER_READ)));
      }
      return Promise.all(parts).then(() => undefined);
    }
    const keys = tags.flatMap((tag) => this.keysOf(tag));
    // Trusted for cacheMs from the moment the read was sent, not from its answer: the bound stays exact.
    const sent = this.#now();
    const until = sent + this.#cacheMs;
    const token = this.#token;
    const read = Promise.resolve(readMany<number>(this.#reader, keys)).then((results) => {
      const out: Known[] = [];
      tags.forEach((tag, i) => {
        const deleted = instantOf(results[2 * i], tag);
        const expired = instantOf(results[2 * i + 1], tag);
        const previous = this.#known.get(tag);
        const known: Known = {
          deleted: Math.max(deleted, previous?.deleted ?? 0),
          expired: Math.max(expired, previous?.expired ?? 0),
          until,
          sent,
          token,
          due: false,
        };
        this.#remember(tag, known);
        this.#generation++;
        out.push(known);
      });
      return out;
    });
    tags.forEach((tag, i) => {
      const one = read.then((all) => all[i] as Known);
      one.catch(() => undefined);
      this.#pending.set(tag, one);
    });
    const done = (): void => {
      for (const tag of tags) this.#pending.delete(tag);
    };
    return read.then(done, (error: unknown) => {
      done();
      throw error;
    });
  }

  #remember(tag: string, known: Known): void {
    this.#known.delete(tag);
    if (this.#known.size >= KNOWN_LIMIT) {
      const oldest = this.#known.keys().next().value;
      if (oldest !== undefined) this.#known.delete(oldest);
    }
    this.#known.set(tag, known);
  }
}

/** The instant a tag key holds: 0 when missing; a store error or a foreign value is thrown. */
function instantOf(result: CacheValue<number> | CacheError | undefined, tag: string): number {
  if (result === undefined) return 0;
  if (result instanceof CacheError) throw result;
  if (typeof result.data !== 'number') {
    throw new CacheError('CORRUPT_ENTRY', `the invalidation instant of tag "${tag}" is not a number`);
  }
  return result.data;
}
