// storeKeyText gives the Redis key of an entry as redis-cli reads it, whatever bytes the key format produced:
// checked with the real redis-cli against the real server, through --quoted-input and through its prompt syntax.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { bitcode, CacheKey, CacheValue } from '@cache/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisBackend } from '../src/index.js';
import { REDIS_URL, singleBackend, uniqueNamespace } from './helpers.js';

const run = promisify(execFile);
const cli = await run('redis-cli', ['--version']).then(
  () => true,
  () => false,
);
if (!cli) console.warn('store-key-text: redis-cli not found, the redis-cli checks are skipped');

async function redisCli(args: string[], input?: string): Promise<string> {
  const child = run('redis-cli', ['-u', REDIS_URL, ...args], { encoding: 'utf8' });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout.trim();
}

const backends: RedisBackend[] = [];
afterAll(async () => {
  // Nothing to clear: each redis-cli case deletes the one entry it wrote (through redis-cli, as part of the check).
  await Promise.all(backends.map((backend) => backend.close()));
});

// Quotes, a backslash, non-ASCII text and, with bitcode, bytes that are not text at all.
const key = CacheKey.from([['name', `O'Brien "x" \\ Zoë ✓`]], { prefix: 'store-key-text', version: 7 });

describe('storeKeyText', () => {
  it('is the store key quoted: printable ASCII as it is, everything else as \\xHH', () => {
    const backend = singleBackend({ namespace: 'app:' });
    backends.push(backend);
    const ascii = CacheKey.from([['user', '42']], { prefix: 'profiles', version: 1 });
    expect(backend.storeKeyText(ascii)).toBe(`"${backend.storeKey(ascii).toString('latin1')}"`);
    // url-encoded keys are ASCII already; a namespace and bitcode keys need not be.
    const binary = singleBackend({ namespace: `O'Brien "x" \\ Zoë:`, keyFormat: bitcode });
    backends.push(binary);
    const text = binary.storeKeyText(key);
    expect(text).toMatch(/^"[\x20-\x7e]*"$/);
    expect(text).not.toMatch(/'/);
    expect(text).toContain('O\\x27Brien');
    expect(text).toContain('\\x22x\\x22');
    expect(text).toContain('\\x5c');
    expect(text).toContain('Zo\\xc3\\xab');
  });

  for (const [name, keyFormat] of [
    ['urlEncoded', undefined],
    ['bitcode', bitcode],
  ] as const) {
    it.skipIf(!cli)(`${name} keys: redis-cli finds the entry by it`, async () => {
      const backend = singleBackend({
        namespace: uniqueNamespace('store-key-text'),
        ...(keyFormat ? { keyFormat } : {}),
      });
      backends.push(backend);
      await backend.set(key, CacheValue.fromTtl('value', { ttlMs: 60_000 }));
      const text = backend.storeKeyText(key);
      expect(await redisCli(['--quoted-input', 'HEXISTS', text, 'd'])).toBe('1');
      // The same text typed at the prompt (here through stdin, which redis-cli parses the same way).
      expect(await redisCli([], `HEXISTS ${text} c\n`)).toBe('1');
      expect(await redisCli(['--quoted-input', 'DEL', text])).toBe('1');
      expect(await backend.get(key)).toBeUndefined();
    });
  }
});
