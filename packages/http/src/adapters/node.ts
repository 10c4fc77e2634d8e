import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http';
import { StoredAnswer } from '../answers.js';
import type { Body } from '../body.js';
import { nodeRequestHeaders, type RequestHeaders } from '../headers.js';
import type { HttpCache } from '../http-cache.js';
import type { CacheResponse, Origin } from '../origin.js';
import { type CacheRequest, RAW_TARGET, type RawTarget } from '../policy/request.js';
import type { StoredResponse } from '../stored-response.js';
import { type Capture, capture } from './capture.js';

/** A Connect/Express-style middleware. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

function parseUrl(target: string | undefined, host: string | undefined): URL {
  try {
    return new URL(target ?? '/', `http://${host ?? 'localhost'}`);
  } catch {
    return new URL(target ?? '/', 'http://localhost');
  }
}

/** The request as the cache sees it. The URL's origin comes from `Host` (it only matters to key extractors that use it). */
export function nodeRequest(req: IncomingMessage): CacheRequest {
  // A copy: the middleware adds validators to req.headers for the handler, and the cache must still see the
  // request the client sent.
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    url: parseUrl(req.url, req.headers.host),
    headers: nodeRequestHeaders({ ...req.headers }),
  };
}

/** `req.headers` as the cache reads them: the live object until {@link MiddlewareHeaders.detach}, then a copy. */
class MiddlewareHeaders implements RequestHeaders {
  #source: IncomingHttpHeaders;
  #detached = false;

  constructor(source: IncomingHttpHeaders) {
    this.#source = source;
  }

  get(name: string): string | null {
    const value = this.#source[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** Keeps the fields as the client sent them before the middleware changes `req.headers` for the handler. */
  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#source = { ...this.#source };
  }
}

/**
 * The middleware's request: the same view as {@link nodeRequest}, made lazily (the URL is parsed when an
 * extractor or predicate reads it, the headers are copied only before they are changed), marked with the raw
 * `Host` and target so the engine can reuse the key it made for them.
 */
class MiddlewareRequest implements CacheRequest {
  readonly method: string;
  readonly headers: MiddlewareHeaders;
  readonly [RAW_TARGET]: RawTarget | undefined;
  readonly #target: string | undefined;
  readonly #host: string | undefined;
  #url: URL | undefined;

  constructor(req: IncomingMessage) {
    const method = req.method ?? 'GET';
    this.method = method === 'GET' || method === 'HEAD' ? method : method.toUpperCase();
    this.headers = new MiddlewareHeaders(req.headers);
    this.#target = req.url;
    this.#host = req.headers.host;
    this[RAW_TARGET] = typeof this.#host === 'string' && typeof this.#target === 'string' ? this : undefined;
  }

  /** The raw `Host` (see {@link RAW_TARGET}; only read when it is a string). */
  get host(): string {
    return this.#host as string;
  }

  /** The raw request target (see {@link RAW_TARGET}; only read when it is a string). */
  get target(): string {
    return this.#target as string;
  }

  get url(): URL {
    if (this.#url === undefined) this.#url = parseUrl(this.#target, this.#host);
    return this.#url;
  }
}

/** A header field as `writeHead` takes it: its name (the first line's) and its value, or its lines. */
type Wire = Array<string | string[]>;

/**
 * `headers` grouped by name (lower case, first-seen order, the first line's spelling) as a flat
 * `[name, value, name, value...]` list for `writeHead`; a field node refuses (invalid characters from a hostile
 * origin) is dropped, not sent half-way. Each field becomes one `setHeader`-like entry, so every line is sent,
 * in order, exactly as node sends a field set with `setHeader(name, values)`.
 */
function wire(headers: Iterable<readonly [string, string]>, skip?: string): Wire | undefined {
  const grouped = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === skip) continue;
    const entry = grouped.get(lower);
    if (entry === undefined) grouped.set(lower, { name, values: [value] });
    else entry.values.push(value);
  }
  if (skip !== undefined && grouped.has('cache-status')) return undefined;
  const out: Wire = [];
  for (const { name, values } of grouped.values()) {
    const value = values.length === 1 ? (values[0] as string) : values;
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value as string); // node checks every line of an array (setHeader does the same)
    } catch {
      continue;
    }
    out.push(name, value);
  }
  return out;
}

/**
 * The fields of a stored response as sent by every hit that answers with it whole: its own without `Age` (made
 * once per stored response), `undefined` when it carries a `Cache-Status` of its own (ours joins that field).
 */
const storedWires = new WeakMap<StoredResponse, Wire | null>();

function storedWire(stored: StoredResponse): Wire | undefined {
  let known = storedWires.get(stored);
  if (known === undefined) {
    known = wire(stored.headers, 'age') ?? null;
    storedWires.set(stored, known);
  }
  return known ?? undefined;
}

/** The fields to send for `response`, the current `Age` and our `Cache-Status` included. */
function responseWire(response: CacheResponse): Wire {
  if (response instanceof StoredAnswer) {
    const stored = storedWire(response.stored);
    if (stored !== undefined) {
      const out = stored.slice();
      out.push('Age', response.age, 'Cache-Status', response.cacheStatusField);
      return out;
    }
  }
  return wire(response.headers) as Wire;
}

type NativeBody = {
  write: (this: ServerResponse, chunk: Uint8Array) => boolean;
  end: (this: ServerResponse, chunk?: Uint8Array) => void;
};

/** Sends the status line and fields of the cache's answer through the prototype's methods (the handler's are captured). */
function sendHead(res: ServerResponse, response: CacheResponse, state: Capture | undefined): void {
  if (state !== undefined) state.native = true;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const fields = responseWire(response);
  if (response.statusText !== '') res.writeHead(response.status, response.statusText, fields);
  else res.writeHead(response.status, fields);
}

/** Sends the cache's answer: head, then body (bytes at once, a stream as the client takes it). */
async function send(res: ServerResponse, response: CacheResponse, state: Capture | undefined): Promise<void> {
  sendHead(res, response, state);
  await writeBody(res, response.body);
}

async function writeBody(res: ServerResponse, body: Body): Promise<void> {
  const proto = Object.getPrototypeOf(res) as NativeBody;
  if (body === null || body instanceof Uint8Array) {
    proto.end.call(res, body ?? undefined);
    return;
  }
  for await (const chunk of body) {
    if (res.destroyed) break;
    if (!proto.write.call(res, chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  proto.end.call(res);
}

/**
 * A Connect/Express-style middleware that answers from `cache` and otherwise runs the rest of the chain (your
 * handler), capturing what it writes to store it. The handler runs at most once per request; under
 * stale-while-revalidate it runs after the client got the stale response, and what it writes only refreshes the
 * cache. Every response gets a `Cache-Status` field.
 */
export function cacheMiddleware(cache: HttpCache): Middleware {
  return (req, res, next) => {
    const request = new MiddlewareRequest(req);
    let state: Capture | undefined;
    let background = false;
    const origin: Origin = (changes) => {
      if (state !== undefined) return Promise.reject(new Error('the handler can run only once per request'));
      request.headers.detach();
      for (const name of changes.remove) delete req.headers[name];
      for (const [name, value] of Object.entries(changes.set)) req.headers[name] = value;
      state = capture(res, background);
      const current = state;
      try {
        next();
      } catch (error) {
        current.release();
        return Promise.reject(error);
      }
      return current.response;
    };
    cache
      .handle(request, origin)
      .then(
        (handled) => {
          const body = handled.response.body;
          if (
            state === undefined &&
            handled.background === undefined &&
            (body === null || body instanceof Uint8Array)
          ) {
            // a hit (the handler never ran): sent at once, without a promise of its own
            sendHead(res, handled.response, undefined);
            (Object.getPrototypeOf(res) as NativeBody).end.call(res, body ?? undefined);
            return;
          }
          return (async (): Promise<void> => {
            try {
              await send(res, handled.response, state);
            } finally {
              if (state?.ended()) state.release();
            }
            if (handled.background !== undefined) {
              background = true;
              await handled.background();
              state?.release();
            }
          })();
        },
        (error: unknown) => {
          if (state === undefined) {
            next(error);
            return;
          }
          state.native = true;
          state.release();
          if (!res.headersSent) {
            for (const name of res.getHeaderNames()) res.removeHeader(name);
            res.statusCode = 502;
            res.setHeader('Cache-Status', cache.formatStatus({ hit: false, detail: 'origin-error' }));
            res.end();
          } else {
            res.destroy(error instanceof Error ? error : undefined);
          }
        },
      )
      .catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : undefined);
      });
  };
}
