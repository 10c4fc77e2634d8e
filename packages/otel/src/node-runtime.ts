/** The parts of Node's `diagnostics_channel` and `async_hooks` this package uses, loaded without a static import. */

export type Listener = (message: unknown, name: string | symbol) => void;

export interface NodeChannel {
  subscribe(listener: Listener): void;
  unsubscribe(listener: Listener): boolean;
  bindStore(store: NodeStorage, transform: (message: unknown) => unknown): void;
  unbindStore(store: NodeStorage): boolean;
}

export interface NodeTracingChannel {
  readonly start: NodeChannel;
  readonly end: NodeChannel;
  readonly asyncStart: NodeChannel;
  readonly asyncEnd: NodeChannel;
  readonly error: NodeChannel;
}

/** An `AsyncLocalStorage` (opaque here: only `getStore` is called). */
export interface NodeStorage {
  getStore(): unknown;
}

export interface NodeRuntime {
  tracingChannel(name: string): NodeTracingChannel;
  channel(name: string): NodeChannel;
  newStorage(): NodeStorage;
}

/** `diagnostics_channel` and `AsyncLocalStorage`, or `undefined` where the runtime lacks either. */
export function nodeRuntime(): NodeRuntime | undefined {
  try {
    const runtime = globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } };
    const load = runtime.process?.getBuiltinModule;
    if (load === undefined) return undefined;
    const dc = load('node:diagnostics_channel') as
      | { tracingChannel(name: string): NodeTracingChannel; channel(name: string): NodeChannel }
      | undefined;
    const hooks = load('node:async_hooks') as { AsyncLocalStorage: new () => NodeStorage } | undefined;
    if (dc === undefined || hooks === undefined) return undefined;
    return {
      tracingChannel: (name) => dc.tracingChannel(name),
      channel: (name) => dc.channel(name),
      newStorage: () => new hooks.AsyncLocalStorage(),
    };
  } catch {
    return undefined;
  }
}

/** Subscribes `listener` and returns the unsubscription. */
export function listen(channel: NodeChannel, listener: Listener): () => void {
  channel.subscribe(listener);
  return () => {
    channel.unsubscribe(listener);
  };
}

/**
 * Follows the traces of a tracing channel: `start` when one begins, `finish` once when it ends (at `end` for a
 * `traceSync` or a synchronous throw, at `asyncEnd` for a `tracePromise`) with its duration in seconds. Traces
 * already running when the subscription began are ignored.
 */
export function followTraces<C extends object>(
  channel: NodeTracingChannel,
  handlers: { start?: (context: C) => void; finish: (context: C, seconds: number) => void },
): () => void {
  const started = new WeakMap<object, number>();
  const finish = (message: unknown): void => {
    const context = message as C;
    const at = started.get(context);
    if (at === undefined) return;
    started.delete(context);
    handlers.finish(context, (performance.now() - at) / 1000);
  };
  const stops = [
    listen(channel.start, (message) => {
      started.set(message as object, performance.now());
      handlers.start?.(message as C);
    }),
    // A promise trace has neither `result` nor `error` at `end`: it finishes at `asyncEnd`.
    listen(channel.end, (message) => {
      if ('result' in (message as object) || 'error' in (message as object)) finish(message);
    }),
    listen(channel.asyncEnd, finish),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
