// Replies no Redis sends (a broken server or proxy in between) are `PROTOCOL` errors, never answers: a fake RESP
// server on a loopback port answers the one command under test with the wrong type.
import { CacheError, CacheKey, CacheValue } from '@cache/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { busSettings } from '../src/coherence/bus-target.js';
import { Publisher } from '../src/coherence/publisher.js';
import { RedisBackend } from '../src/index.js';
import { fakeRespServer } from './fake-resp-server.js';

const server = await fakeRespServer(() => undefined);
const backends: RedisBackend[] = [];
afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close();
});
afterAll(() => server.close());

/** A backend on the fake server whose `command` is answered with `reply` (everything else `+OK`). */
function answering(command: string, reply: string): RedisBackend {
  server.setReply((args) => (args[0] === command ? reply : undefined));
  const backend = new RedisBackend({ url: server.url, namespace: 'protocol:', responseTimeoutMs: 1000 });
  backends.push(backend);
  return backend;
}

const key = CacheKey.of('k', '1');
const OK = '+OK\r\n';
const NULL = '$-1\r\n';

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return CacheError.is(error) ? error.code : `not a CacheError: ${String(error)}`;
  }
}

describe('integer replies', () => {
  it.each([
    ['+OK', OK],
    ['a null', NULL],
    ['a bulk string', '$1\r\n1\r\n'],
    ['a negative count', ':-1\r\n'],
  ])('DEL answered %s: delete fails with PROTOCOL instead of resolving "missing"', async (_, reply) => {
    expect(await codeOf(answering('DEL', reply).delete(key))).toBe('PROTOCOL');
  });

  it('UNLINK answered +OK: clear fails with PROTOCOL instead of returning NaN', async () => {
    const backend = answering('UNLINK', OK);
    server.setReply((args) =>
      args[0] === 'SCAN'
        ? '*2\r\n$1\r\n0\r\n*1\r\n$12\r\nprotocol:k=1\r\n'
        : args[0] === 'UNLINK'
          ? OK
          : undefined,
    );
    expect(await codeOf(backend.clear())).toBe('PROTOCOL');
  });

  it('PUBLISH answered +OK: the coherence publisher fails with PROTOCOL', async () => {
    server.setReply((args) => (args[0] === 'PUBLISH' ? OK : undefined));
    const publisher = new Publisher(busSettings({ url: server.url }, 1000), 1000);
    try {
      expect(await codeOf(publisher.publish('channel', 'message'))).toBe('PROTOCOL');
    } finally {
      await publisher.close();
    }
  });
});

describe('SCAN pages', () => {
  it.each([
    ['+OK', OK],
    ['a null', NULL],
    ['one element', '*1\r\n$1\r\n0\r\n'],
    ['a cursor that is not a number', '*2\r\n$1\r\nx\r\n*0\r\n'],
    ['keys that are not strings', '*2\r\n$1\r\n0\r\n*1\r\n:5\r\n'],
  ])('SCAN answered %s: clear fails with PROTOCOL', async (_, reply) => {
    expect(await codeOf(answering('SCAN', reply).clear())).toBe('PROTOCOL');
  });
});

describe('read replies (HMGET + PTTL)', () => {
  it.each([
    ['HMGET', '+OK', OK],
    ['HMGET', 'an integer', ':1\r\n'],
    ['HMGET', 'three fields for four', '*3\r\n$1\r\n1\r\n$-1\r\n$-1\r\n'],
    ['HMGET', 'a field that is an integer', '*4\r\n$1\r\n1\r\n:7\r\n$-1\r\n$-1\r\n'],
    ['PTTL', '+OK', OK],
    ['PTTL', 'a bulk string', '$2\r\n10\r\n'],
    ['PTTL', '-3', ':-3\r\n'],
  ])('%s answered %s: get fails with PROTOCOL', async (command, _, reply) => {
    const backend = answering(command, reply);
    server.setReply((args) => {
      if (args[0] === command) return reply;
      if (args[0] === 'HMGET') return '*4\r\n$1\r\n1\r\n$-1\r\n$-1\r\n$-1\r\n';
      if (args[0] === 'PTTL') return ':-1\r\n';
      return undefined;
    });
    expect(await codeOf(backend.get(key))).toBe('PROTOCOL');
  });
});

describe('EXEC replies', () => {
  it.each([
    ['+OK for every command', '*3\r\n+OK\r\n+OK\r\n+OK\r\n'],
    ['two replies for three commands', '*2\r\n:1\r\n:1\r\n'],
    ['PEXPIREAT 0 (the key it just wrote is missing)', '*3\r\n:0\r\n:2\r\n:0\r\n'],
    ['a null (an aborted transaction, though nothing is watched)', '*-1\r\n'],
  ])('EXEC answered %s: set fails with PROTOCOL', async (_, reply) => {
    const backend = answering('EXEC', reply);
    expect(await codeOf(backend.set(key, CacheValue.fromTtl(1, { ttlMs: 60_000 })))).toBe('PROTOCOL');
  });

  it('a well-formed EXEC reply is a successful write', async () => {
    const backend = answering('EXEC', '*3\r\n:0\r\n:2\r\n:1\r\n');
    await backend.set(key, CacheValue.fromTtl(1, { ttlMs: 60_000 }));
  });
});
