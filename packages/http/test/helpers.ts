import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryBackend } from '@cache/memory';
import {
  type CacheFetchOptions,
  cacheFetch,
  createHttpCache,
  type HttpCache,
  type HttpCacheOptions,
} from '../src/index.js';

/** A fetch handler that counts its calls and answers what `respond` says. */
export function countingHandler(respond: (request: Request, call: number) => Response | Promise<Response>) {
  const calls: Request[] = [];
  const handler = async (request: Request): Promise<Response> => {
    calls.push(request);
    return respond(request, calls.length);
  };
  return { handler, calls };
}

/** A cache over a fresh memory backend, with a controllable clock. */
export function memoryCache(options: Partial<HttpCacheOptions> = {}) {
  let now = Date.now();
  const cache = createHttpCache({
    store: memoryBackend({ maxEntries: 1_000 }),
    now: () => now,
    ...options,
  });
  return {
    cache,
    advance(ms: number) {
      now += ms;
    },
    now: () => now,
  };
}

/** `cacheFetch` with the background work collected, so a test can wait for it. */
export function fetchThrough(
  cache: HttpCache,
  handler: (request: Request) => Response | Promise<Response>,
  options: CacheFetchOptions = {},
) {
  const work: Promise<unknown>[] = [];
  const fetch = cacheFetch(cache, handler, { waitUntil: (w) => work.push(w), ...options });
  return {
    fetch: (path: string, init?: RequestInit) => fetch(new Request(`http://app.test${path}`, init)),
    settled: () => Promise.all(work.splice(0)),
  };
}

/** Starts a node:http server on a free loopback port. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  base: string;
  server: Server;
  close: () => Promise<void>;
}> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The Cache-Status member of a response, as sent. */
export function cacheStatus(response: Response): string {
  return response.headers.get('cache-status') ?? '';
}
