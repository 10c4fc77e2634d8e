/**
 * Our server middleware for the http suite's load part: `createHttpCache` + `cacheMiddleware` from `@cache/http`
 * in front of the application's handler (node:http or Express), over memory or `compose(memory, redis)`. Loaded
 * by `http-servers.ts` in the server's child process. The exports are looked up at run time, so the suite reports a missing adapter
 * as a row that did not start instead of failing to compile.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CacheBackend } from '@cache/core';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

interface HttpExports {
  readonly createHttpCache?: (options: { store: CacheBackend }) => unknown;
  readonly cacheMiddleware?: (cache: unknown) => Middleware;
}

/** Our middleware over memory, or `compose(memory, redis)` when `redisUrl` is given. */
export async function cacheMiddlewareFor(redisUrl: string | undefined): Promise<Middleware> {
  const http = (await import('@cache/http')) as HttpExports;
  const { createHttpCache, cacheMiddleware } = http;
  if (typeof createHttpCache !== 'function' || typeof cacheMiddleware !== 'function') {
    throw new Error('@cache/http exports no createHttpCache and cacheMiddleware');
  }
  const { memoryBackend } = await import('@cache/memory');
  let store: CacheBackend = memoryBackend({ maxEntries: 10_000 });
  if (redisUrl !== undefined) {
    const { compose } = await import('@cache/core');
    const { RedisBackend } = await import('@cache/redis');
    store = compose(store, new RedisBackend({ url: redisUrl, namespace: `bench:http-mw:${process.pid}:` }));
  }
  return cacheMiddleware(createHttpCache({ store }));
}

/** A node:http listener: our middleware, then the application's handler. */
export async function middlewareListener(
  handler: Handler,
  redisUrl: string | undefined,
): Promise<RequestListener> {
  const middleware = await cacheMiddlewareFor(redisUrl);
  return (req, res) =>
    middleware(req, res, (error) => {
      if (error !== undefined) {
        res.statusCode = 500;
        res.end();
        return;
      }
      void handler(req, res);
    });
}
