import { CacheError } from '@cache/core';
import { RESP_TYPES } from '@redis/client';
import { DeadlineError, withDeadline } from './deadline.js';
import type { RedisArg } from './node-redis.js';

/** node-redis type mapping that returns bulk strings as Buffers, so payloads and binary keys round-trip. */
export const BYTES = Object.freeze({ typeMapping: Object.freeze({ [RESP_TYPES.BLOB_STRING]: Buffer }) });

/** The write of one entry, as a transaction on its key: `DEL`, `HSET`, then `PEXPIREAT` when it expires. */
export interface EntryWrite {
  readonly key: RedisArg;
  readonly hset: RedisArg[];
  readonly expireAt: number | undefined;
}

/** How one command of a batch ended: its reply, or its own error (a batch never fails for one key). */
export type Settled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** Captures how `work` ends, without rejecting. */
export function settle<T>(work: Promise<T>): Promise<Settled<T>> {
  return work.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/**
 * Sends the `HMGET` and `PTTL` of `count` keys (`hmget(i)`, `pttl(i)`, all called now, in one tick) and gathers
 * their replies with one promise for the batch rather than several per key: a batch read is mostly this loop.
 */
export function gatherReads(
  count: number,
  hmget: (i: number) => Promise<unknown>,
  pttl: (i: number) => Promise<unknown>,
): Promise<Settled<[unknown, unknown]>[]> {
  return new Promise((resolve) => {
    const fields = new Array<unknown>(count);
    const ttls = new Array<unknown>(count);
    let errors: Map<number, unknown> | undefined;
    let pending = count * 2;
    const finish = (): void => {
      const settled = new Array<Settled<[unknown, unknown]>>(count);
      for (let i = 0; i < count; i++) {
        const error = errors?.get(i);
        settled[i] = errors?.has(i) ? { ok: false, error } : { ok: true, value: [fields[i], ttls[i]] };
      }
      resolve(settled);
    };
    const fail = (i: number, error: unknown): void => {
      errors ??= new Map();
      if (!errors.has(i)) errors.set(i, error);
      if (--pending === 0) finish();
    };
    const send = (i: number, command: (i: number) => Promise<unknown>, into: unknown[]): void => {
      let sent: Promise<unknown>;
      try {
        sent = command(i);
      } catch (error) {
        fail(i, error);
        return;
      }
      sent.then(
        (reply) => {
          into[i] = reply;
          if (--pending === 0) finish();
        },
        (error: unknown) => fail(i, error),
      );
    };
    if (count === 0) finish();
    for (let i = 0; i < count; i++) {
      send(i, hmget, fields);
      send(i, pttl, ttls);
    }
  });
}

/**
 * The commands the backend needs, over one node or a cluster. Each method waits for a connection when there is
 * none yet; the backend bounds the whole call with its deadline.
 */
export interface RedisLink {
  /** `HMGET key <fields>` and `PTTL key`, sent together in one round trip. */
  read(key: RedisArg, fields: readonly string[]): Promise<[unknown, unknown]>;
  /** The transaction of {@link EntryWrite}: atomic, one round trip, all on one key (so one cluster slot). */
  write(entry: EntryWrite): Promise<void>;
  /** `DEL key`: the number of keys removed. */
  remove(key: RedisArg): Promise<number>;
  /**
   * {@link read} of every key, all sent in the same tick: node-redis writes them to each node's socket together,
   * so a batch costs one round trip per node. Rejects only when no connection could be had.
   */
  readMany(keys: readonly RedisArg[], fields: readonly string[]): Promise<Settled<[unknown, unknown]>[]>;
  /** {@link write} of every entry (each its own transaction, on its own key), all sent in the same tick. */
  writeMany(entries: readonly EntryWrite[]): Promise<Settled<void>[]>;
  /** {@link remove} of every key, all sent in the same tick. */
  removeMany(keys: readonly RedisArg[]): Promise<Settled<number>[]>;
  /** `SCAN MATCH pattern` + `UNLINK` on every master, each page bounded by `deadline`; the number of keys removed. */
  removeMatching(pattern: Buffer, deadline: <T>(work: Promise<T>) => Promise<T>): Promise<number>;
  /** True while a command can be sent without waiting for a connection. */
  readonly connected: boolean;
  /** Told when an operation missed its deadline, so a hung connection can be detected and replaced. */
  missedDeadline(): void;
  /** Closes what the link owns and removes the listeners it added to what it does not. */
  close(timeoutMs: number): Promise<void>;
}

/** A `PROTOCOL` error: the server (or a proxy in between) answered something the command never returns. */
export function protocolError(what: string): CacheError {
  return new CacheError('PROTOCOL', `unexpected reply to ${what}`);
}

/**
 * The count of an integer reply (`DEL`, `UNLINK`, `PUBLISH`...). node-redis decodes integer replies as numbers;
 * anything else (`+OK`, a null, a string) is a `PROTOCOL` error, never a count.
 */
export function integer(reply: unknown, command: string): number {
  if (typeof reply !== 'number' || !Number.isSafeInteger(reply) || reply < 0) throw protocolError(command);
  return reply;
}

const CURSOR = /^\d{1,20}$/;

/** `[cursor, keys]` of a SCAN reply with byte strings; any other shape is a `PROTOCOL` error. */
export function scanPage(reply: unknown): [string, Buffer[]] {
  if (!Array.isArray(reply) || reply.length !== 2 || !Buffer.isBuffer(reply[0]) || !Array.isArray(reply[1])) {
    throw protocolError('SCAN');
  }
  const cursor = reply[0].toString('latin1');
  const keys = reply[1] as unknown[];
  if (!CURSOR.test(cursor) || !keys.every((key) => Buffer.isBuffer(key))) throw protocolError('SCAN');
  return [cursor, keys as Buffer[]];
}

/**
 * Checks the `EXEC` reply of an {@link EntryWrite}: one integer per queued command (`DEL`, `HSET`, and
 * `PEXPIREAT` answering 1, the key it just wrote existing). A write is only reported done when Redis says so.
 */
export function execReply(reply: unknown, entry: EntryWrite): void {
  const count = entry.expireAt === undefined ? 2 : 3;
  if (!Array.isArray(reply) || reply.length !== count) throw protocolError('EXEC');
  for (const item of reply) integer(item, 'EXEC');
  if (count === 3 && reply[2] !== 1) throw protocolError('PEXPIREAT in EXEC');
}

/** Pages of `SCAN` use this `COUNT` hint; `UNLINK` goes in batches of the page. */
export const SCAN_COUNT = '1000';

/**
 * Closes a client or cluster the backend owns: gracefully (pending replies drained) within `timeoutMs` when it is
 * `usable`, else at once. A client that is not usable has nothing in flight to drain: with the offline queue
 * disabled no command waits on it, and a graceful close would only wait for a connection that is not coming.
 */
export async function closeOwned(
  target: { close(): Promise<unknown>; destroy(): void },
  usable: boolean,
  timeoutMs: number,
): Promise<void> {
  if (!usable) {
    target.destroy();
    return;
  }
  await withDeadline(target.close(), timeoutMs, () => new DeadlineError(timeoutMs, 'command')).catch(() =>
    target.destroy(),
  );
}
