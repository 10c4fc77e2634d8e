import dc from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { CacheError, CircuitBreaker, DIAGNOSTICS_CHANNELS, type DiagnosticsEvent } from '../src/index.js';

describe('CircuitBreaker on diagnostics_channel', () => {
  it('publishes every state change once on cache:event, only while someone subscribes', async () => {
    let now = 1_000;
    const circuit = new CircuitBreaker({ label: 'far', failureThreshold: 1, openMs: 100, now: () => now });
    const fail = () => Promise.reject(new CacheError('TIMEOUT', 'timed out'));
    const events: DiagnosticsEvent[] = [];
    const onEvent = (event: unknown) => events.push(event as DiagnosticsEvent);
    dc.subscribe(DIAGNOSTICS_CHANNELS.event, onEvent);
    try {
      await expect(circuit.run(fail)).rejects.toMatchObject({ code: 'TIMEOUT' });
      now += 100;
      expect(await circuit.run(() => Promise.resolve(1))).toBe(1);
    } finally {
      dc.unsubscribe(DIAGNOSTICS_CHANNELS.event, onEvent);
    }
    expect(events).toEqual([
      { type: 'breaker', backend: 'far', from: 'closed', to: 'open', reason: 'failures' },
      { type: 'breaker', backend: 'far', from: 'open', to: 'half-open', reason: 'open-elapsed' },
      { type: 'breaker', backend: 'far', from: 'half-open', to: 'closed', reason: 'probe-succeeded' },
    ]);
    await expect(circuit.run(fail)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(circuit.state).toBe('open');
    expect(events).toHaveLength(3);
  });
});
