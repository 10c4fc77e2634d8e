import type { ServerResponse } from 'node:http';
import type { OriginResponse } from '../origin.js';

type Chunk = Uint8Array;

/** A queue of body chunks written by a handler, read as an async iterable. */
class ChunkQueue implements AsyncIterable<Chunk> {
  readonly #chunks: Chunk[] = [];
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  push(chunk: Chunk): void {
    this.#chunks.push(chunk);
    this.#wake?.();
  }

  end(error?: Error): void {
    this.#ended = true;
    this.#error = error;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Chunk> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

const PATCHED = [
  'writeHead',
  'write',
  'end',
  'flushHeaders',
  'setHeader',
  'getHeader',
  'getHeaders',
  'getHeaderNames',
  'hasHeader',
  'removeHeader',
  'appendHeader',
] as const;

function toChunk(chunk: unknown, encoding: unknown): Chunk | undefined {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined;
  if (chunk instanceof Uint8Array) return chunk;
  return Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
}

/** What `capture` gives back: the response the handler writes, and the switch between captured and native headers. */
export interface Capture {
  /** Settles once the handler sent its head (first write, `end` or `flushHeaders`). */
  readonly response: Promise<OriginResponse>;
  /** Native header methods (for sending the cache's answer) while true; the handler's virtual ones while false. */
  native: boolean;
  /** Removes the instance methods once both the handler and the cache are done. */
  release(): void;
  /** True once the handler ended its response. */
  readonly ended: () => boolean;
}

/**
 * Makes `res` record what a handler writes instead of sending it: status, header fields (virtual, seeded with
 * those already set), body chunks. The cache then decides what the client gets, using the prototype's methods.
 */
export function capture(res: ServerResponse, background = false): Capture {
  const proto = Object.getPrototypeOf(res) as Record<string, (...args: unknown[]) => unknown>;
  const headers = new Map<string, { name: string; value: number | string | string[] }>();
  const raw = (res as unknown as { getRawHeaderNames?: () => string[] }).getRawHeaderNames;
  const rawNames = raw === undefined ? res.getHeaderNames() : raw.call(res);
  for (const name of rawNames) {
    const value = res.getHeader(name);
    if (value !== undefined) headers.set(name.toLowerCase(), { name, value: value as string });
  }
  const queue = new ChunkQueue();
  let headSent = false;
  let ended = false;
  let resolveHead!: (response: OriginResponse) => void;
  let rejectHead!: (error: Error) => void;
  const response = new Promise<OriginResponse>((resolve, reject) => {
    resolveHead = resolve;
    rejectHead = reject;
  });
  const state: Capture = {
    response,
    native: false,
    release() {
      for (const name of PATCHED) delete (res as unknown as Record<string, unknown>)[name];
      delete (res as unknown as Record<string, unknown>).headersSent;
    },
    ended: () => ended,
  };
  const sendHead = (): void => {
    if (headSent) return;
    headSent = true;
    const list: Array<[string, string]> = [];
    for (const { name, value } of headers.values()) {
      if (Array.isArray(value)) for (const v of value) list.push([name, String(v)]);
      else list.push([name, String(value)]);
    }
    resolveHead({ status: res.statusCode, statusText: res.statusMessage ?? '', headers: list, body: queue });
  };
  // Header methods (and writeHead, which node's own end() calls for the implicit head) switch to the native ones
  // while the cache sends; the body methods stay captured until release, so a handler still streaming a body the
  // cache passes through keeps feeding the queue, in order, while the cache pumps it to the client.
  const patch = (
    name: (typeof PATCHED)[number],
    virtual: (...args: unknown[]) => unknown,
    always = false,
  ): void => {
    Object.defineProperty(res, name, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) =>
        state.native && !always ? proto[name]?.apply(res, args) : virtual(...args),
    });
  };
  patch('setHeader', (name, value) => {
    headers.set(String(name).toLowerCase(), { name: String(name), value: value as string });
    return res;
  });
  patch('appendHeader', (name, value) => {
    const lower = String(name).toLowerCase();
    const old = headers.get(lower);
    const add = Array.isArray(value) ? value.map(String) : [String(value)];
    const prev = old === undefined ? [] : Array.isArray(old.value) ? old.value : [String(old.value)];
    headers.set(lower, { name: old?.name ?? String(name), value: [...prev, ...add] });
    return res;
  });
  patch('getHeader', (name) => headers.get(String(name).toLowerCase())?.value);
  patch('getHeaders', () => {
    const out: Record<string, unknown> = Object.create(null);
    for (const [lower, { value }] of headers) out[lower] = value;
    return out;
  });
  patch('getHeaderNames', () => [...headers.keys()]);
  patch('hasHeader', (name) => headers.has(String(name).toLowerCase()));
  patch('removeHeader', (name) => {
    headers.delete(String(name).toLowerCase());
  });
  patch('writeHead', (status, message, fields) => {
    res.statusCode = Number(status);
    let given = fields;
    if (typeof message === 'string') res.statusMessage = message;
    else given = message;
    if (Array.isArray(given)) {
      const flat = given.length > 0 && !Array.isArray(given[0]);
      if (flat) {
        for (let i = 0; i + 1 < given.length; i += 2) appendVirtual(String(given[i]), String(given[i + 1]));
      } else {
        for (const [n, v] of given as Array<[string, string]>) appendVirtual(String(n), String(v));
      }
    } else if (given !== undefined && given !== null) {
      for (const [n, v] of Object.entries(given as Record<string, unknown>)) {
        if (v !== undefined) headers.set(n.toLowerCase(), { name: n, value: v as string });
      }
    }
    return res;
  });
  const appendVirtual = (name: string, value: string): void => {
    const lower = name.toLowerCase();
    const old = headers.get(lower);
    if (old === undefined) headers.set(lower, { name, value });
    else
      headers.set(lower, {
        name: old.name,
        value: [...(Array.isArray(old.value) ? old.value : [String(old.value)]), value],
      });
  };
  patch('flushHeaders', () => sendHead(), true);
  patch(
    'write',
    (chunk, encoding, callback) => {
      sendHead();
      const bytes = toChunk(chunk, encoding);
      if (bytes !== undefined && bytes.byteLength > 0) queue.push(bytes);
      const cb = typeof encoding === 'function' ? encoding : callback;
      if (typeof cb === 'function') queueMicrotask(() => (cb as () => void)());
      return true;
    },
    true,
  );
  patch(
    'end',
    (chunk, encoding, callback) => {
      if (ended) return res;
      sendHead();
      const bytes = toChunk(chunk, encoding);
      if (bytes !== undefined && bytes.byteLength > 0) queue.push(bytes);
      ended = true;
      queue.end();
      const cb = [chunk, encoding, callback].find((c) => typeof c === 'function');
      if (typeof cb === 'function') queueMicrotask(() => (cb as () => void)());
      return res;
    },
    true,
  );
  Object.defineProperty(res, 'headersSent', {
    configurable: true,
    get: () =>
      state.native
        ? res.writableEnded || Boolean((res as unknown as { _header: unknown })._header)
        : headSent,
  });
  const onClose = (): void => {
    // In the background (the client already has its answer) the connection's end does not stop the handler.
    if (!ended && !background) {
      const error = new Error('the client closed the connection before the handler answered');
      rejectHead(error);
      queue.end(error);
    }
  };
  res.once('close', onClose);
  // The cache may stop listening (the handler threw); a later rejection must not be unhandled.
  response.catch(() => undefined);
  const release = state.release;
  state.release = () => {
    res.off('close', onClose);
    release();
  };
  return state;
}
