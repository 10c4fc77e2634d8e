import { describe, expect, it, vi } from 'vitest';
import {
  BREAKER_DEFAULTS,
  type BreakerOptions,
  type BreakerStateChange,
  CacheError,
  type CacheErrorCode,
  CircuitBreaker,
} from '../src/index.js';
import { cacheErrorOf, thrown } from './helpers/thrown.js';

const sick = (code: CacheErrorCode = 'TIMEOUT') => new CacheError(code, `store: ${code}`);
const fail = (code?: CacheErrorCode) => () => Promise.reject(sick(code));
const succeed =
  <T>(value: T) =>
  () =>
    Promise.resolve(value);

/** A breaker on a hand-moved clock, with its state changes recorded. */
function setup(options: BreakerOptions = {}) {
  const clock = { ms: 1_000_000 };
  const events: BreakerStateChange[] = [];
  const circuit = new CircuitBreaker({
    label: 'store',
    failureThreshold: 3,
    openMs: 1_000,
    maxOpenMs: 4_000,
    now: () => clock.ms,
    onStateChange: (event) => events.push(event),
    ...options,
  });
  const failTimes = async (n: number, code?: CacheErrorCode) => {
    for (let i = 0; i < n; i++) await thrown(() => circuit.run(fail(code)));
  };
  return { clock, events, circuit, failTimes };
}

async function codeOf(promise: unknown): Promise<string | undefined> {
  const error = await thrown(() => promise);
  return CacheError.is(error) ? error.code : undefined;
}

describe('CircuitBreaker', () => {
  it('has documented defaults', () => {
    const circuit = new CircuitBreaker();
    expect(circuit.options).toMatchObject(BREAKER_DEFAULTS);
    expect(BREAKER_DEFAULTS).toEqual({
      failureThreshold: 5,
      openMs: 5_000,
      maxOpenMs: 60_000,
      halfOpenProbes: 1,
      maxInFlight: 1_000,
      failInFlight: true,
    });
    expect(circuit.state).toBe('closed');
  });

  it('opens after failureThreshold consecutive retryable failures, and then fails fast without calling', async () => {
    const { circuit, events, failTimes } = setup();
    await failTimes(2);
    expect(circuit.state).toBe('closed');
    expect(circuit.consecutiveFailures).toBe(2);
    await failTimes(1);
    expect(circuit.state).toBe('open');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ backend: 'store', from: 'closed', to: 'open', reason: 'failures' });
    expect(CacheError.is(events[0]?.error, 'TIMEOUT')).toBe(true);

    let called = false;
    const error = await thrown(() =>
      circuit.run(
        () => {
          called = true;
          return Promise.resolve(1);
        },
        { operation: 'read', key: 'user:1' },
      ),
    );
    expect(called).toBe(false);
    expect(CacheError.is(error, 'CIRCUIT_OPEN')).toBe(true);
    const open = error as CacheError;
    expect(open.retryable).toBe(true);
    expect(open.backend).toBe('store');
    expect(open.operation).toBe('read');
    expect(open.key).toBe('user:1');
    expect(open.message).toContain('store');
    expect(open.message).toContain('next probe in 1000 ms');
    expect(CacheError.is(open.cause, 'TIMEOUT')).toBe(true);
    expect(circuit.counters).toMatchObject({ calls: 3, failures: 3, rejectedOpen: 1, opened: 1 });
  });

  it('counts only failures that say the store is sick (retryable CacheErrors by default)', async () => {
    const { circuit, failTimes } = setup();
    await failTimes(2, 'CONNECTION');
    for (const code of ['DESERIALIZE', 'CORRUPT_ENTRY', 'INVALID_KEY', 'DECOMPRESS', 'CLOSED'] as const) {
      await failTimes(5, code);
    }
    await thrown(() => circuit.run(() => Promise.reject(new Error('plain'))));
    expect(circuit.state).toBe('closed');
    expect(circuit.consecutiveFailures).toBe(2);
    await failTimes(1, 'OVERLOADED');
    expect(circuit.state).toBe('open');
  });

  it('takes its own idea of a failure from isFailure', async () => {
    const { circuit } = setup({ isFailure: (error) => error instanceof TypeError });
    for (let i = 0; i < 5; i++) await thrown(() => circuit.run(fail('TIMEOUT')));
    expect(circuit.state).toBe('closed');
    for (let i = 0; i < 3; i++) await thrown(() => circuit.run(() => Promise.reject(new TypeError('x'))));
    expect(circuit.state).toBe('open');
  });

  it('a success resets the count of consecutive failures', async () => {
    const { circuit, failTimes } = setup();
    await failTimes(2);
    expect(await circuit.run(succeed('ok'))).toBe('ok');
    expect(circuit.consecutiveFailures).toBe(0);
    await failTimes(2);
    expect(circuit.state).toBe('closed');
    await failTimes(1);
    expect(circuit.state).toBe('open');
  });

  it('turns half-open lazily on the first call after openMs, with no timer', async () => {
    const { circuit, clock, events, failTimes } = setup();
    await failTimes(3);
    expect(circuit.retryAt).toBe(clock.ms + 1_000);
    clock.ms += 999;
    expect(await codeOf(circuit.run(succeed(1)))).toBe('CIRCUIT_OPEN');
    clock.ms += 1;
    expect(circuit.state).toBe('open'); // nothing happens until a call comes
    expect(await circuit.run(succeed('probe'))).toBe('probe');
    expect(circuit.state).toBe('closed');
    expect(events.map((e) => [e.from, e.to, e.reason])).toEqual([
      ['closed', 'open', 'failures'],
      ['open', 'half-open', 'open-elapsed'],
      ['half-open', 'closed', 'probe-succeeded'],
    ]);
  });

  it('half-open: lets halfOpenProbes calls through and fails the others fast', async () => {
    for (const probes of [1, 2]) {
      const { circuit, clock, failTimes } = setup({ halfOpenProbes: probes });
      await failTimes(3);
      clock.ms += 1_000;
      const releases: Array<() => void> = [];
      const held = () => new Promise<string>((resolve) => releases.push(() => resolve('probed')));
      const admitted = Array.from({ length: probes }, () => circuit.run(held));
      expect(circuit.state).toBe('half-open');
      expect(await codeOf(circuit.run(succeed(1)))).toBe('CIRCUIT_OPEN');
      expect(releases).toHaveLength(probes);
      for (const release of releases) release();
      expect(await Promise.all(admitted)).toEqual(Array(probes).fill('probed'));
      expect(circuit.state).toBe('closed');
      expect(await circuit.run(succeed('after'))).toBe('after');
    }
  });

  it('a failed probe reopens it for twice as long, capped at maxOpenMs; closing resets the open time', async () => {
    const { circuit, clock, events, failTimes } = setup();
    await failTimes(3);
    const openTimes: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.ms = circuit.retryAt as number;
      await thrown(() => circuit.run(fail()));
      expect(circuit.state).toBe('open');
      openTimes.push((circuit.retryAt as number) - clock.ms);
    }
    expect(openTimes).toEqual([2_000, 4_000, 4_000, 4_000]);
    expect(events.filter((e) => e.reason === 'probe-failed')).toHaveLength(4);
    clock.ms = circuit.retryAt as number;
    await circuit.run(succeed(1));
    expect(circuit.state).toBe('closed');
    await failTimes(3);
    expect((circuit.retryAt as number) - clock.ms).toBe(1_000);
  });

  it('a probe that fails with an error that does not count frees its slot and stays half-open', async () => {
    const { circuit, clock, failTimes } = setup();
    await failTimes(3);
    clock.ms += 1_000;
    expect(await codeOf(circuit.run(fail('DESERIALIZE')))).toBe('DESERIALIZE');
    expect(circuit.state).toBe('half-open');
    expect(await circuit.run(succeed(2))).toBe(2);
    expect(circuit.state).toBe('closed');
  });

  it('fails the calls still in flight at once when it opens, and keeps counting them until they settle', async () => {
    const { circuit, failTimes } = setup();
    let release: (v: string) => void = () => undefined;
    const stuck = circuit.run(() => new Promise<string>((resolve) => (release = resolve)), {
      operation: 'get',
      key: 'k',
    });
    const outcome = stuck.then(
      () => 'answered',
      (error: unknown) => error,
    );
    await failTimes(3);
    expect(circuit.state).toBe('open');
    const error = await outcome;
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', operation: 'get', key: 'k' });
    expect((error as Error).message).toContain('in flight');
    expect(circuit.inFlight).toBe(1); // the store still has it
    release('late');
    await Promise.resolve();
    await Promise.resolve();
    expect(circuit.inFlight).toBe(0);
    expect(circuit.state).toBe('open'); // a late success does not close it
  });

  it('with failInFlight: false, calls in flight wait for their own outcome', async () => {
    const { circuit, failTimes } = setup({ failInFlight: false });
    let release: (v: string) => void = () => undefined;
    const slow = circuit.run(() => new Promise<string>((resolve) => (release = resolve)));
    await failTimes(3);
    expect(circuit.state).toBe('open');
    release('late');
    expect(await slow).toBe('late');
  });

  it('ignores outcomes of calls sent before the last state change', async () => {
    const { circuit, clock, failTimes } = setup({ failInFlight: false });
    let releaseSlow: (v: string) => void = () => undefined;
    const slow = circuit.run(() => new Promise<string>((resolve) => (releaseSlow = resolve)));
    let rejectSlow: (e: unknown) => void = () => undefined;
    const slowFailure = circuit.run(() => new Promise<string>((_, reject) => (rejectSlow = reject)));
    await failTimes(3);
    expect(circuit.state).toBe('open');
    releaseSlow('late'); // a late success does not close an open breaker
    expect(await slow).toBe('late');
    expect(circuit.state).toBe('open');
    const retryAt = circuit.retryAt;
    clock.ms += 500;
    rejectSlow(sick()); // nor does a late failure extend it
    await thrown(() => slowFailure);
    expect(circuit.retryAt).toBe(retryAt);
  });

  it('reset() closes it at once', async () => {
    const { circuit, events, failTimes } = setup();
    await failTimes(3);
    circuit.reset();
    expect(circuit.state).toBe('closed');
    expect(events.at(-1)).toMatchObject({ from: 'open', to: 'closed', reason: 'reset' });
    expect(await circuit.run(succeed(1))).toBe(1);
  });

  it('subscribe() adds a listener and returns its removal; a throwing listener does not break the breaker', async () => {
    const { circuit, clock, failTimes } = setup();
    const seen: string[] = [];
    const unsubscribe = circuit.subscribe((e) => seen.push(`${e.from}->${e.to}`));
    const queued: Array<() => void> = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => queued.push(task));
    const removeBuggy = circuit.subscribe(() => {
      throw new Error('listener bug');
    });
    try {
      await failTimes(3);
    } finally {
      spy.mockRestore();
      removeBuggy();
    }
    expect(circuit.state).toBe('open');
    // The listener's error is rethrown from a microtask, not swallowed.
    expect(queued).toHaveLength(1);
    expect(() => queued[0]?.()).toThrow('listener bug');
    unsubscribe();
    clock.ms += 1_000;
    await circuit.run(succeed(1)).catch(() => undefined);
    expect(seen).toEqual(['closed->open']);
  });

  describe('maxInFlight', () => {
    it('fails calls past the bound at once with OVERLOADED, which does not count toward opening', async () => {
      const { circuit } = setup({ maxInFlight: 2, failureThreshold: 1 });
      const releases: Array<() => void> = [];
      const held = () => new Promise<number>((resolve) => releases.push(() => resolve(1)));
      const a = circuit.run(held);
      const b = circuit.run(held);
      expect(circuit.inFlight).toBe(2);
      let called = false;
      const error = await thrown(() =>
        circuit.run(() => {
          called = true;
          return Promise.resolve(0);
        }),
      );
      expect(called).toBe(false);
      expect(CacheError.is(error, 'OVERLOADED')).toBe(true);
      expect((error as CacheError).retryable).toBe(true);
      expect((error as CacheError).backend).toBe('store');
      expect(circuit.state).toBe('closed');
      expect(circuit.counters.rejectedOverloaded).toBe(1);
      for (const release of releases) release();
      await Promise.all([a, b]);
      expect(circuit.inFlight).toBe(0);
    });

    it('releases the slot on every exit path: value, sync value, rejection, sync throw', async () => {
      const { circuit } = setup({ maxInFlight: 1, failureThreshold: 100 });
      expect(await circuit.run(succeed(1))).toBe(1);
      expect(circuit.inFlight).toBe(0);
      expect(circuit.run(() => 2)).toBe(2);
      expect(circuit.inFlight).toBe(0);
      await thrown(() => circuit.run(fail()));
      expect(circuit.inFlight).toBe(0);
      cacheErrorOf(
        () =>
          circuit.run(() => {
            throw sick('CONNECTION');
          }),
        'CONNECTION',
      );
      expect(circuit.inFlight).toBe(0);
      expect(circuit.counters.failures).toBe(2);
      expect(await circuit.run(succeed('still usable'))).toBe('still usable');
    });

    it('Infinity turns the bound off', async () => {
      const { circuit } = setup({ maxInFlight: Number.POSITIVE_INFINITY });
      const releases: Array<() => void> = [];
      const calls = Array.from({ length: 2_000 }, () =>
        circuit.run(() => new Promise<void>((resolve) => releases.push(resolve))),
      );
      expect(circuit.inFlight).toBe(2_000);
      for (const release of releases) release();
      await Promise.all(calls);
    });

    it('a probe refused for overload gives its probe slot back', async () => {
      const { circuit, clock, failTimes } = setup({ maxInFlight: 1 });
      let release: () => void = () => undefined;
      const stuck = circuit.run(() => new Promise<void>((resolve) => (release = resolve)));
      await failTimes(3);
      clock.ms += 1_000;
      expect(await codeOf(circuit.run(succeed(1)))).toBe('OVERLOADED');
      release();
      await stuck;
      expect(await circuit.run(succeed('probe'))).toBe('probe');
      expect(circuit.state).toBe('closed');
    });
  });

  describe('synchronous operations', () => {
    it('returns a synchronous value synchronously and rethrows a synchronous throw synchronously', () => {
      const { circuit } = setup();
      const value = circuit.run(() => 'sync');
      expect(value).toBe('sync');
      expect(() =>
        circuit.run(() => {
          throw sick();
        }),
      ).toThrow(CacheError);
    });

    it('counts synchronous failures and successes like asynchronous ones', async () => {
      const { circuit } = setup();
      const syncFail = () => {
        throw sick();
      };
      for (let i = 0; i < 2; i++) expect(() => circuit.run(syncFail)).toThrow();
      circuit.run(() => 1);
      expect(circuit.consecutiveFailures).toBe(0);
      for (let i = 0; i < 3; i++) expect(() => circuit.run(syncFail)).toThrow();
      expect(circuit.state).toBe('open');
      // Refusals are always promises, never synchronous throws.
      const refused = circuit.run(() => 1);
      expect(refused).toBeInstanceOf(Promise);
      expect(await codeOf(refused)).toBe('CIRCUIT_OPEN');
    });
  });

  it.each([
    [{ failureThreshold: 0 }],
    [{ failureThreshold: 1.5 }],
    [{ halfOpenProbes: 0 }],
    [{ maxInFlight: 0 }],
    [{ openMs: -1 }],
    [{ openMs: Number.POSITIVE_INFINITY }],
    [{ openMs: 10_000, maxOpenMs: 5_000 }],
  ])('rejects options %j', (options) => {
    cacheErrorOf(() => new CircuitBreaker(options), 'INVALID_OPTIONS');
  });
});
