import { CacheKey, type KeyPart } from '@cache/core';

/** The channels of one coherence group. Both share a hash tag, so on a cluster they live in one shard. */
export interface Channels {
  /** Where every process publishes its invalidations. */
  readonly invalidations: string;
  /** This instance's heartbeat channel: only this instance publishes to it and listens to it. */
  readonly heartbeat: string;
}

/**
 * Channel names for `base` and `instanceId`. The base goes inside `{...}` (braces in it become `_`), so both names
 * hash to the same cluster slot; two bases that differ only by braces share their messages, which costs extra
 * evictions, never a missed one.
 */
export function channelsFor(base: string, instanceId: string): Channels {
  const tag = `{${base.replace(/[{}]/g, '_')}}`;
  return { invalidations: `${tag}:inv`, heartbeat: `${tag}:hb:${instanceId}` };
}

/**
 * An invalidation: `{"v":1,"from":"<instance id>","key":<canonical key>}`, where the key is `CacheKey.canonical`,
 * the JSON array `[prefix, version, name1, value1, ...]`. Another program (a Rust service writing the same Redis)
 * can take part by publishing the same JSON; `{"v":1,"from":"<id>","all":true}` drops every L1 copy.
 */
export function invalidationMessage(instanceId: string, key: CacheKey): string {
  return `{"v":1,"from":${JSON.stringify(instanceId)},"key":${key.canonical}}`;
}

/** Most keys in one batched invalidation message, and most characters of keys: a large batch takes several. */
export const MAX_KEYS_PER_MESSAGE = 256;
const MAX_KEY_CHARS_PER_MESSAGE = 64 * 1024;

/**
 * The invalidations of `keys` in as few messages as fit the bounds: `{"v":1,"from":"<id>","keys":[<canonical>,
 * ...]}`. A receiver that only knows the single-key form drops its whole L1 on such a message (it cannot name the
 * key), so mixing versions costs evictions, never a stale copy.
 */
export function batchInvalidationMessages(instanceId: string, keys: readonly CacheKey[]): string[] {
  const head = `{"v":1,"from":${JSON.stringify(instanceId)},"keys":[`;
  const messages: string[] = [];
  let parts: string[] = [];
  let chars = 0;
  for (const key of keys) {
    const canonical = key.canonical;
    if (
      parts.length > 0 &&
      (parts.length >= MAX_KEYS_PER_MESSAGE || chars + canonical.length > MAX_KEY_CHARS_PER_MESSAGE)
    ) {
      messages.push(`${head}${parts.join(',')}]}`);
      parts = [];
      chars = 0;
    }
    parts.push(canonical);
    chars += canonical.length;
  }
  if (parts.length > 0) messages.push(`${head}${parts.join(',')}]}`);
  return messages;
}

/**
 * Every L1 copy of a key whose prefix starts with `prefix` is dropped: `{"v":1,"from":"<id>","prefix":"..."}`
 * (sent after a namespace was cleared).
 */
export function prefixInvalidationMessage(instanceId: string, prefix: string): string {
  return `{"v":1,"from":${JSON.stringify(instanceId)},"prefix":${JSON.stringify(prefix)}}`;
}

/** Every L1 copy is dropped: `{"v":1,"from":"<id>","all":true}`. */
export function allInvalidationMessage(instanceId: string): string {
  return `{"v":1,"from":${JSON.stringify(instanceId)},"all":true}`;
}

/** The start of every message `instanceId` publishes, to skip its own messages without parsing them. */
export function ownPrefix(instanceId: string): string {
  return `{"v":1,"from":${JSON.stringify(instanceId)},`;
}

/** A message understood: one key to drop, several, every key under a prefix, or every L1 copy. */
export type Invalidation =
  | { readonly kind: 'key'; readonly from: string; readonly key: CacheKey }
  | { readonly kind: 'keys'; readonly from: string; readonly keys: readonly CacheKey[] }
  | { readonly kind: 'prefix'; readonly from: string; readonly prefix: string }
  | { readonly kind: 'all'; readonly from: string };

function keyFromCanonical(flat: unknown): CacheKey {
  if (!Array.isArray(flat) || flat.length < 2 || flat.length % 2 !== 0) {
    throw new Error('key is not [prefix, version, name, value, ...]');
  }
  const [prefix, version] = flat;
  const parts: KeyPart[] = [];
  for (let i = 2; i < flat.length; i += 2) {
    const value = flat[i + 1];
    if (value !== null && typeof value !== 'string') throw new Error('a key part value is not a string');
    parts.push({ name: flat[i] as string, value });
  }
  // The constructor checks the types of prefix, version and names.
  return new CacheKey(prefix as string, version as number, parts);
}

/** Parses an invalidation message; throws on anything malformed. */
export function parseInvalidation(message: string): Invalidation {
  const parsed = JSON.parse(message) as {
    v?: unknown;
    from?: unknown;
    key?: unknown;
    keys?: unknown;
    prefix?: unknown;
    all?: unknown;
  };
  if (typeof parsed !== 'object' || parsed === null || parsed.v !== 1 || typeof parsed.from !== 'string') {
    throw new Error('not a version 1 invalidation message');
  }
  if (parsed.all === true) return { kind: 'all', from: parsed.from };
  if (parsed.keys !== undefined) {
    if (!Array.isArray(parsed.keys)) throw new Error('keys is not an array');
    return { kind: 'keys', from: parsed.from, keys: parsed.keys.map(keyFromCanonical) };
  }
  if (parsed.prefix !== undefined) {
    if (typeof parsed.prefix !== 'string') throw new Error('prefix is not a string');
    return { kind: 'prefix', from: parsed.from, prefix: parsed.prefix };
  }
  return { kind: 'key', from: parsed.from, key: keyFromCanonical(parsed.key) };
}

/** A heartbeat payload: the subscriber session it tests and its sequence number. */
export function heartbeatMessage(session: number, seq: number): string {
  return `${session}:${seq}`;
}

/** The session and sequence number of a heartbeat, or undefined when it is not one of ours. */
export function parseHeartbeat(message: string): { session: number; seq: number } | undefined {
  const colon = message.indexOf(':');
  if (colon < 0) return undefined;
  const session = Number(message.slice(0, colon));
  const seq = Number(message.slice(colon + 1));
  return Number.isSafeInteger(session) && Number.isSafeInteger(seq) ? { session, seq } : undefined;
}
