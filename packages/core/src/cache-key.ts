import { CacheError } from './errors.js';

/** One `(name, value)` pair of a key. `value: null` is a name without a value, distinct from `""`. */
export interface KeyPart {
  readonly name: string;
  readonly value: string | null;
}

/** Prefix and version of a key. */
export interface CacheKeyOptions {
  /**
   * Namespace of the key. Bumping it (or `version`) orphans every old entry at once.
   * @default ""
   */
  readonly prefix?: string;
  /**
   * Schema version, an unsigned 32-bit integer. Bump it when the cached data's shape changes.
   * @default 0
   */
  readonly version?: number;
}

/** Anything `CacheKey.from` accepts as parts: pairs in order, or an object (in its own key order). */
export type KeyPartsInput =
  | Iterable<readonly [name: string, value: string | null] | KeyPart>
  | Readonly<Record<string, string | null>>;

const MAX_U32 = 0xffff_ffff;

function isWellFormed(text: string): boolean {
  // String.prototype.isWellFormed exists on every runtime we support (Node 20+, current browsers).
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function checkText(text: unknown, what: string): string {
  if (typeof text !== 'string') {
    throw new CacheError('INVALID_KEY', `${what} must be a string, got ${typeof text}`);
  }
  if (!isWellFormed(text)) {
    throw new CacheError(
      'INVALID_KEY',
      `${what} contains a lone UTF-16 surrogate and cannot be encoded as UTF-8`,
    );
  }
  return text;
}

function checkVersion(version: unknown): number {
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > MAX_U32) {
    throw new CacheError(
      'INVALID_KEY',
      `key version must be an integer from 0 to ${MAX_U32}, got ${String(version)}`,
    );
  }
  return version;
}

/**
 * A cache key: an ordered list of `(name, value)` parts plus a prefix and a version, as in hitbox.
 * Order matters and duplicate names are allowed; nothing is sorted or normalised. Keys are immutable.
 *
 * @example
 * CacheKey.of('user:42');                                   // one part, no value
 * CacheKey.from({ method: 'GET', path: '/users' }, { prefix: 'api', version: 2 });
 * CacheKey.from([['id', '42'], ['flag', null]]);
 */
export class CacheKey {
  /** Namespace of the key. */
  readonly prefix: string;
  /** Schema version (u32). */
  readonly version: number;
  /** The parts in order. Frozen. */
  readonly parts: readonly KeyPart[];
  #canonical: string | undefined;

  /** Builds a key from already-made parts. Throws `INVALID_KEY` on non-strings, lone surrogates or a bad version. */
  constructor(prefix: string, version: number, parts: readonly KeyPart[]) {
    this.prefix = checkText(prefix, 'key prefix');
    this.version = checkVersion(version);
    const copy: KeyPart[] = [];
    for (const part of parts) {
      const name = checkText(part.name, 'key part name');
      const value = part.value === null ? null : checkText(part.value, `value of key part "${name}"`);
      copy.push(Object.freeze({ name, value }));
    }
    this.parts = Object.freeze(copy);
  }

  /** A key of one part, like hitbox's `CacheKey::from_str(name, value)`. Without `value` the part has none. */
  static of(name: string, value: string | null = null, options: CacheKeyOptions = {}): CacheKey {
    return new CacheKey(
      options.prefix === undefined ? '' : options.prefix,
      options.version === undefined ? 0 : options.version,
      [{ name, value }],
    );
  }

  /** A key from pairs (`[name, value]` or `{ name, value }`) or from an object's own entries, in order. */
  static from(parts: KeyPartsInput, options: CacheKeyOptions = {}): CacheKey {
    const list: KeyPart[] = [];
    if (typeof (parts as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const part of parts as Iterable<readonly [string, string | null] | KeyPart>) {
        list.push(Array.isArray(part) ? { name: part[0], value: part[1] } : (part as KeyPart));
      }
    } else {
      for (const [name, value] of Object.entries(parts as Record<string, string | null>)) {
        list.push({ name, value });
      }
    }
    return new CacheKey(
      options.prefix === undefined ? '' : options.prefix,
      options.version === undefined ? 0 : options.version,
      list,
    );
  }

  /** The same parts under another prefix and/or version. */
  with(options: CacheKeyOptions): CacheKey {
    return new CacheKey(options.prefix ?? this.prefix, options.version ?? this.version, this.parts);
  }

  /**
   * A stable, unambiguous string for in-process maps and logs: equal keys give equal strings and different keys
   * different ones (null and "" values are told apart). It is not a storage format; use a `KeyFormat` for that.
   * Computed once per key.
   */
  get canonical(): string {
    if (this.#canonical === undefined) {
      const flat: (string | number | null)[] = [this.prefix, this.version];
      for (const part of this.parts) flat.push(part.name, part.value);
      this.#canonical = JSON.stringify(flat);
    }
    return this.#canonical;
  }

  /** True when both keys have the same prefix, version and parts in the same order. */
  equals(other: CacheKey): boolean {
    return this === other || this.canonical === other.canonical;
  }

  /** The canonical string. */
  toString(): string {
    return this.canonical;
  }
}
