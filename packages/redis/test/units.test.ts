// The pure parts, without a server: URL parsing, glob escaping, reply parsing, error codes, backoff.
import { CacheError } from '@cache/core';
import {
  ClientOfflineError,
  ErrorReply,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from '@redis/client';
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../src/address.js';
import { reconnectStrategy, resolveBackoff } from '../src/backoff.js';
import { DeadlineError, withDeadline } from '../src/deadline.js';
import { parseEntry } from '../src/entry-layout.js';
import { escapeGlob } from '../src/glob.js';
import { classify } from '../src/redis-errors.js';

describe('parseAddress', () => {
  it('takes URLs and bare host:port apart, decoding credentials', () => {
    expect(parseAddress('rediss://us%40er:p%3Ass@cache.internal:6380/2')).toEqual({
      host: 'cache.internal',
      port: 6380,
      tls: true,
      username: 'us@er',
      password: 'p:ss',
      database: 2,
    });
    expect(parseAddress('127.0.0.1:7000')).toMatchObject({ host: '127.0.0.1', port: 7000, tls: false });
    expect(parseAddress('redis://[::1]')).toMatchObject({ host: '::1', port: 6379, database: undefined });
    expect(parseAddress('redis://:only-password@h')).toMatchObject({
      username: undefined,
      password: 'only-password',
    });
  });
});

describe('escapeGlob', () => {
  it('escapes * ? [ ] \\ ^ and leaves other bytes alone', () => {
    expect(escapeGlob(Buffer.from('a*b?c[d]e\\f^g:h')).toString()).toBe('a\\*b\\?c\\[d\\]e\\\\f\\^g:h');
    const plain = Buffer.from('plain:ns:');
    expect(escapeGlob(plain)).toBe(plain);
  });
});

describe('parseEntry', () => {
  const codec = 'cbor/none';
  const d = Buffer.from([0xf6]);
  it('misses on absent keys and on a key that vanished between HMGET and PTTL', () => {
    expect(parseEntry([null, null, null, null], -2, 0, codec)).toBeUndefined();
    expect(parseEntry([d, null, null, null], -2, 0, codec)).toBeUndefined();
  });
  it('prefers the stored expire when it agrees with PTTL, else now + PTTL', () => {
    expect(parseEntry([d, null, Buffer.from('10500'), null], 500, 10_100, codec)?.expire).toBe(10_500);
    expect(parseEntry([d, null, Buffer.from('10500'), null], 90_000, 10_000, codec)?.expire).toBe(100_000);
    expect(parseEntry([d, null, null, null], -1, 10_000, codec)?.expire).toBeUndefined();
  });
  it('rejects replies of the wrong shape', () => {
    expect(() => parseEntry('nope', 1, 0, codec)).toThrow(CacheError);
    expect(() => parseEntry([d, null, null, null], -7, 0, codec)).toThrow(/PTTL/);
  });
});

describe('classify', () => {
  it('maps node-redis and server failures to stable codes', () => {
    expect(classify(new ErrorReply('WRONGPASS invalid username-password pair'))).toBe('AUTH');
    expect(classify(new ErrorReply("NOPERM User myapp has no permissions to access the 'x' key"))).toBe(
      'AUTH',
    );
    expect(
      classify(new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).toBe('CORRUPT_ENTRY');
    expect(classify(new ErrorReply('CLUSTERDOWN The cluster is down'))).toBe('CONNECTION');
    expect(classify(new ErrorReply('OOM command not allowed'))).toBe('BACKEND');
    expect(classify(new ClientOfflineError())).toBe('CONNECTION');
    expect(classify(new SocketClosedUnexpectedlyError())).toBe('CONNECTION');
    expect(classify(new TimeoutError())).toBe('TIMEOUT');
    expect(classify(new DeadlineError(5, 'command'))).toBe('TIMEOUT');
    expect(classify(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      'CONNECTION',
    );
    expect(classify(new CacheError('CODEC_MISMATCH', 'x'))).toBe('CODEC_MISMATCH');
  });
});

describe('backoff', () => {
  it('grows by the base up to the cap, stops after the retries and on server refusals', () => {
    const strategy = reconnectStrategy(
      resolveBackoff({ retries: 5, base: 3, delayMs: 100, maxDelayMs: 1000 }),
    );
    const network = new Error('ECONNREFUSED');
    const first = strategy(0, network) as number;
    expect(first).toBeGreaterThanOrEqual(80);
    expect(first).toBeLessThanOrEqual(120);
    expect(strategy(1, network)).toBeGreaterThanOrEqual(240);
    expect(strategy(4, network)).toBeLessThanOrEqual(1200);
    expect(strategy(5, network)).toBe(false);
    expect(strategy(0, new ErrorReply('WRONGPASS'))).toBe(false);
    // node-redis' default strategy gives up for good after a socket timeout; ours reconnects.
    expect(strategy(0, new SocketTimeoutError(1000))).toBeGreaterThan(0);
  });
});

describe('withDeadline', () => {
  it('rejects at the deadline and still handles the late rejection of the loser', async () => {
    let rejectLate: (e: Error) => void = () => {};
    const late = new Promise<never>((_, reject) => {
      rejectLate = reject;
    });
    await expect(withDeadline(late, 20, () => new DeadlineError(20, 'command'))).rejects.toBeInstanceOf(
      DeadlineError,
    );
    rejectLate(new Error('too late')); // vitest would fail the run on an unhandled rejection
    await expect(withDeadline(Promise.resolve(7), 1000, () => new Error('no'))).resolves.toBe(7);
  });
});
