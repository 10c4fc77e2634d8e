import { describe, expect, it } from 'vitest';
import { CacheError, type CacheErrorCode } from '../src/index.js';

describe('CacheError', () => {
  it('carries a stable code, a name and its details', () => {
    const cause = new Error('socket closed');
    const error = new CacheError('CONNECTION', 'redis unreachable', {
      cause,
      key: '["",0,"a",null]',
      backend: 'cache.redis',
      operation: 'get',
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(CacheError);
    expect(error.name).toBe('CacheError');
    expect(error.code).toBe('CONNECTION');
    expect(error.message).toBe('redis unreachable');
    expect(error.cause).toBe(cause);
    expect(error.key).toBe('["",0,"a",null]');
    expect(error.backend).toBe('cache.redis');
    expect(error.operation).toBe('get');
  });

  it('leaves absent details undefined and sets no cause', () => {
    const error = new CacheError('BACKEND', 'boom');
    expect(error.key).toBeUndefined();
    expect(error.backend).toBeUndefined();
    expect(error.operation).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  it('shortens very long keys', () => {
    const error = new CacheError('BACKEND', 'boom', { key: 'k'.repeat(10_000) });
    expect(error.key!.length).toBeLessThanOrEqual(257);
    expect(error.key!.endsWith('…')).toBe(true);
    expect(new CacheError('BACKEND', 'boom', { key: 'k'.repeat(256) }).key).toBe('k'.repeat(256));
  });

  it.each<[CacheErrorCode, boolean]>([
    ['CONNECTION', true],
    ['TIMEOUT', true],
    ['CLOSED', true],
    ['CIRCUIT_OPEN', true],
    ['OVERLOADED', true],
    ['AUTH', false],
    ['CORRUPT_ENTRY', false],
    ['KEY_DECODE', false],
    ['DESERIALIZE', false],
    ['DECOMPRESS_LIMIT', false],
    ['BACKEND', false],
  ])('%s is retryable: %s', (code, retryable) => {
    expect(new CacheError(code, 'x').retryable).toBe(retryable);
  });

  describe('is', () => {
    it('recognises CacheErrors, optionally by code', () => {
      const error = new CacheError('TIMEOUT', 'slow');
      expect(CacheError.is(error)).toBe(true);
      expect(CacheError.is(error, 'TIMEOUT')).toBe(true);
      expect(CacheError.is(error, 'CONNECTION')).toBe(false);
    });

    it('recognises a CacheError from another copy of the package by name and code', () => {
      const foreign = Object.assign(new Error('from a duplicate install'), {
        name: 'CacheError',
        code: 'AUTH',
      });
      expect(CacheError.is(foreign, 'AUTH')).toBe(true);
    });

    it.each([
      ['a plain Error', new Error('x')],
      ['an Error named CacheError without a code', Object.assign(new Error('x'), { name: 'CacheError' })],
      ['a look-alike object', { name: 'CacheError', code: 'AUTH', message: 'x' }],
      ['a string', 'CacheError'],
      ['undefined', undefined],
    ])('rejects %s', (_what, value) => {
      expect(CacheError.is(value)).toBe(false);
    });
  });

  describe('wrap', () => {
    it('wraps a foreign error with the code, keeping it as cause and its message', () => {
      const cause = new TypeError('bad byte');
      const error = CacheError.wrap(cause, 'DESERIALIZE', 'reading failed', { key: 'k', backend: 'redis' });
      expect(error.code).toBe('DESERIALIZE');
      expect(error.cause).toBe(cause);
      expect(error.message).toBe('reading failed: bad byte');
      expect(error.key).toBe('k');
      expect(error.backend).toBe('redis');
    });

    it('wraps thrown non-errors too', () => {
      const error = CacheError.wrap('just a string', 'BACKEND', 'store failed');
      expect(error.message).toBe('store failed: just a string');
      expect(error.cause).toBe('just a string');
    });

    it('returns a CacheError that already has the details as it is, keeping its code', () => {
      const inner = new CacheError('DECOMPRESS_LIMIT', 'too big', {
        key: 'k',
        backend: 'redis',
        operation: 'get',
      });
      expect(CacheError.wrap(inner, 'DECOMPRESS', 'outer', { key: 'k2', backend: 'b' })).toBe(inner);
      expect(CacheError.wrap(inner, 'DECOMPRESS', 'outer')).toBe(inner);
    });

    it('fills in missing details of a CacheError without changing its code, message or cause', () => {
      const cause = new Error('root');
      const inner = new CacheError('DECOMPRESS_LIMIT', 'too big', { cause });
      const wrapped = CacheError.wrap(inner, 'DECOMPRESS', 'outer', {
        key: 'k',
        backend: 'redis',
        operation: 'get',
      });
      expect(wrapped).not.toBe(inner);
      expect(wrapped.code).toBe('DECOMPRESS_LIMIT');
      expect(wrapped.message).toBe('too big');
      expect(wrapped.cause).toBe(cause);
      expect(wrapped).toMatchObject({ key: 'k', backend: 'redis', operation: 'get' });
    });
  });
});
