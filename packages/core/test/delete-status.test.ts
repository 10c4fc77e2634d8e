import { describe, expect, it } from 'vitest';
import { BackendLabel, DeleteStatus, isPromiseLike } from '../src/index.js';

describe('DeleteStatus', () => {
  it('has a frozen missing status', () => {
    expect(DeleteStatus.missing).toEqual({ kind: 'missing' });
    expect(Object.isFrozen(DeleteStatus.missing)).toBe(true);
  });

  it('counts deletions, one by default, and turns zero into missing', () => {
    expect(DeleteStatus.deleted()).toEqual({ kind: 'deleted', count: 1 });
    expect(DeleteStatus.deleted(3)).toEqual({ kind: 'deleted', count: 3 });
    expect(DeleteStatus.deleted(0)).toBe(DeleteStatus.missing);
  });

  it('combines by adding counts; missing + missing stays missing', () => {
    expect(DeleteStatus.combine(DeleteStatus.deleted(1), DeleteStatus.deleted(2))).toEqual({
      kind: 'deleted',
      count: 3,
    });
    expect(DeleteStatus.combine(DeleteStatus.missing, DeleteStatus.deleted(1))).toEqual({
      kind: 'deleted',
      count: 1,
    });
    expect(DeleteStatus.combine(DeleteStatus.deleted(2), DeleteStatus.missing)).toEqual({
      kind: 'deleted',
      count: 2,
    });
    expect(DeleteStatus.combine(DeleteStatus.missing, DeleteStatus.missing)).toBe(DeleteStatus.missing);
  });
});

describe('BackendLabel', () => {
  it('composes outer and inner with a dot, skipping empty labels', () => {
    expect(BackendLabel.compose('cache', 'redis')).toBe('cache.redis');
    expect(BackendLabel.compose('outer', BackendLabel.compose('inner', 'redis'))).toBe('outer.inner.redis');
    expect(BackendLabel.compose('', 'redis')).toBe('redis');
    expect(BackendLabel.compose('cache', '')).toBe('cache');
  });
});

describe('isPromiseLike', () => {
  it('tells promises and thenables from plain values', () => {
    expect(isPromiseLike(Promise.resolve(1))).toBe(true);
    // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is the point of this check.
    const thenable = { then: () => undefined } as unknown as PromiseLike<number>;
    expect(isPromiseLike(thenable)).toBe(true);
    expect(isPromiseLike(1)).toBe(false);
    expect(isPromiseLike(undefined)).toBe(false);
    expect(isPromiseLike(null as unknown as number)).toBe(false);
  });
});
