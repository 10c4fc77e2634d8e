import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Body } from '../body.js';
import { nodeRequestHeaders } from '../headers.js';
import type { HttpCache } from '../http-cache.js';
import type { CacheResponse, Origin } from '../origin.js';
import type { CacheRequest } from '../policy/request.js';
import { type Capture, capture } from './capture.js';

/** A Connect/Express-style middleware. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** The request as the cache sees it. The URL's origin comes from `Host` (it only matters to key extractors that use it). */
export function nodeRequest(req: IncomingMessage): CacheRequest {
  const host = req.headers.host ?? 'localhost';
  let url: URL;
  try {
    url = new URL(req.url ?? '/', `http://${host}`);
  } catch {
    url = new URL(req.url ?? '/', 'http://localhost');
  }
  // A copy: the middleware adds validators to req.headers for the handler, and the cache must still see the
  // request the client sent.
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    url,
    headers: nodeRequestHeaders({ ...req.headers }),
  };
}

/** Sends the cache's answer through the prototype's methods (the handler's are captured). */
async function send(res: ServerResponse, response: CacheResponse, state: Capture | undefined): Promise<void> {
  if (state !== undefined) state.native = true;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const grouped = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    const entry = grouped.get(lower);
    if (entry === undefined) grouped.set(lower, { name, values: [value] });
    else entry.values.push(value);
  }
  for (const { name, values } of grouped.values()) {
    try {
      res.setHeader(name, values.length === 1 ? (values[0] as string) : values);
    } catch {
      // a field node refuses (invalid characters from a hostile origin) is dropped, not sent half-way
    }
  }
  res.statusCode = response.status;
  if (response.statusText !== '') res.statusMessage = response.statusText;
  await writeBody(res, response.body);
}

async function writeBody(res: ServerResponse, body: Body): Promise<void> {
  const proto = Object.getPrototypeOf(res) as {
    write: (this: ServerResponse, chunk: Uint8Array) => boolean;
    end: (this: ServerResponse, chunk?: Uint8Array) => void;
  };
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
    const request = nodeRequest(req);
    let state: Capture | undefined;
    let background = false;
    const origin: Origin = (changes) => {
      if (state !== undefined) return Promise.reject(new Error('the handler can run only once per request'));
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
        async (handled) => {
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
