// Mode "undici": a node:http reverse proxy that forwards every request through an undici Agent composed with
// undici's cache interceptor (a shared cache) whose store is our UndiciCacheStore, on memory or memory + Redis.
// It also exports startUndiciProxy, which modes/undici-memory.mjs uses with undici's own MemoryCacheStore.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { Agent, interceptors } from 'undici';
import { connectionSpecific } from '../../dist/headers.js';
import { undiciCacheStore } from '../../dist/undici/index.js';

export const description =
  'node:http proxy through undici’s cache interceptor, with our CacheStore over a CacheBackend';
export const stores = ['memory', 'memory+redis'];

/** `headers` (an object of fields) without the hop-by-hop ones and those its `Connection` names. */
function endToEnd(headers) {
  const connection = headers.connection;
  const named = connectionSpecific(Array.isArray(connection) ? connection : connection ? [connection] : []);
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !named.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

/** Sends an interim response (102, 103, any other 1xx but 101) to the client ahead of the final one. */
function interim(res, statusCode, statusMessage, headers) {
  if (statusCode === 102) res.writeProcessing();
  else if (statusCode === 103) res.writeEarlyHints(endToEnd(headers));
  else if (statusCode !== 100 && statusCode !== 101 && res.socket !== null) {
    let head = `HTTP/1.1 ${statusCode} ${statusMessage ?? ''}\r\n`;
    for (const [name, value] of Object.entries(endToEnd(headers))) {
      for (const one of Array.isArray(value) ? value : [value]) head += `${name}: ${one}\r\n`;
    }
    res.socket.write(`${head}\r\n`);
  }
}

/**
 * Starts a node:http server on `port` that forwards each request to `origin` through `dispatcher` (an Agent
 * composed with the cache interceptor) and streams the answer back. Returns `{ base, close }`.
 */
export async function startUndiciProxy({ origin, port, dispatcher, onClose }) {
  const server = createServer((req, res) => {
    const headers = endToEnd(req.headers);
    delete headers.host;
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) req.resume();
    let controller;
    dispatcher.dispatch(
      { origin, path: req.url, method: req.method, headers, body: hasBody ? req : undefined },
      {
        onRequestStart(c) {
          controller = c;
        },
        onResponseStart(_c, statusCode, resHeaders, statusMessage) {
          // undici hands interim (1xx) responses to the same callback, before the final one: relay them as such.
          if (statusCode < 200) return interim(res, statusCode, statusMessage, resHeaders);
          res.writeHead(statusCode, statusMessage || undefined, endToEnd(resHeaders));
        },
        onResponseData(c, chunk) {
          if (!res.write(chunk)) {
            c.pause();
            res.once('drain', () => c.resume());
          }
        },
        onResponseEnd() {
          res.end();
        },
        onResponseError(_c, error) {
          if (!res.headersSent) {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(`proxy error: ${error.message}`);
          } else {
            res.destroy(error);
          }
        },
      },
    );
    res.on('close', () => {
      if (!res.writableFinished) controller?.abort?.(new Error('client went away'));
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    base: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
      await dispatcher.close();
      await onClose?.();
    },
  };
}

export async function start({ origin, store, redisUrl, port }) {
  const memory = memoryBackend({ maxEntries: 10_000 });
  let redis;
  let backend = memory;
  if (store === 'memory+redis') {
    if (redisUrl === undefined) throw new Error('memory+redis needs a redisUrl');
    redis = new RedisBackend({
      url: redisUrl,
      namespace: `cache-tests:undici:${randomBytes(6).toString('hex')}:`,
    });
    backend = compose(memory, redis);
  } else if (store !== 'memory') {
    throw new Error(`unknown store ${store}`);
  }
  const errors = new Map();
  const cacheStore = undiciCacheStore({
    backend,
    onError: (error) => errors.set(error.code, (errors.get(error.code) ?? 0) + 1),
  });
  const dispatcher = new Agent().compose(interceptors.cache({ store: cacheStore, type: 'shared' }));
  return startUndiciProxy({
    origin,
    port,
    dispatcher,
    async onClose() {
      await cacheStore.flush();
      if (errors.size > 0)
        console.error(`undici/${store}: store errors ${JSON.stringify(Object.fromEntries(errors))}`);
      if (redis !== undefined) {
        await redis.clear();
        await redis.close();
      }
    },
  });
}
