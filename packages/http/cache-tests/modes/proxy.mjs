// Reverse-proxy mode: @cache/http's node middleware in front of a handler that forwards to the suite's origin.
// The cache is configured as a plain RFC 9111 shared cache: every status the RFC allows, Authorization and
// Set-Cookie handled as the RFC says, fail-safe only when the origin cannot be reached.
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { compose } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { RedisBackend } from '@cache/redis';
import { connectionSpecific } from '../../dist/headers.js';
import { cacheMiddleware, createHttpCache } from '../../dist/index.js';

export const description = 'node:http reverse proxy: cacheMiddleware in front of a forwarding handler';
export const stores = ['memory', 'memory+redis'];

/** Hop-by-hop fields (RFC 9110 section 7.6.1): never forwarded. */
const HOP_BY_HOP = connectionSpecific([]);

/** The end-to-end fields of node's flat `rawHeaders` list, as [name, value] pairs. */
function endToEnd(raw) {
  const connection = [];
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].toLowerCase() === 'connection') connection.push(raw[i + 1]);
  const named = connectionSpecific(connection);
  const out = [];
  for (let i = 0; i < raw.length; i += 2)
    if (!named.has(raw[i].toLowerCase())) out.push([raw[i], raw[i + 1]]);
  return out;
}

/** The origin handler: forwards the request (headers as the cache left them) and relays interim responses. */
function forwarder(origin) {
  const target = new URL(origin);
  return (req, res) => {
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    let started = false;
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (response) => {
        started = true;
        const fields = endToEnd(response.rawHeaders);
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        res.writeHead(response.statusCode, response.statusMessage, fields);
        response.on('data', (chunk) => res.write(chunk));
        // A body longer than its Content-Length makes node's client fail the socket after the response is complete:
        // the response still ends (as a reverse proxy passes what the length says); 'close' ends a cut one.
        response.on('end', () => res.end());
        response.on('close', () => res.end());
      },
    );
    upstream.on('information', (info) => {
      // Interim responses go straight to the client: they are never cached.
      if (info.statusCode === 102) res.writeProcessing();
      else if (info.statusCode === 103) {
        const hints = {};
        for (let i = 0; i < info.rawHeaders.length; i += 2) {
          const name = info.rawHeaders[i].toLowerCase();
          hints[name] =
            hints[name] === undefined
              ? info.rawHeaders[i + 1]
              : [].concat(hints[name], info.rawHeaders[i + 1]);
        }
        res.writeEarlyHints(hints);
      } else if (res.socket !== null) {
        let head = `HTTP/1.1 ${info.statusCode} ${info.statusMessage ?? ''}\r\n`;
        for (let i = 0; i < info.rawHeaders.length; i += 2)
          head += `${info.rawHeaders[i]}: ${info.rawHeaders[i + 1]}\r\n`;
        res.socket.write(`${head}\r\n`);
      }
    });
    upstream.on('error', (error) => {
      if (started) return;
      res.statusCode = 502;
      res.end(`origin unreachable: ${error.message}`);
    });
    req.pipe(upstream);
  };
}

export async function start({ origin, store, redisUrl, port }) {
  let backend = memoryBackend({ maxBytes: 256 * 1024 * 1024 });
  let redis;
  if (store === 'memory+redis') {
    if (redisUrl === undefined) throw new Error('memory+redis needs redisUrl');
    redis = new RedisBackend({ url: redisUrl, namespace: `cache-tests:${randomUUID()}:` });
    backend = compose(backend, redis);
  }
  const cache = createHttpCache({
    store: backend,
    response: () => true,
    allowAuthorization: true,
    allowSetCookie: true,
    failSafe: 'errors',
  });
  const middleware = cacheMiddleware(cache);
  const forward = forwarder(origin);
  const server = createServer((req, res) => middleware(req, res, () => forward(req, res)));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    base: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
      await redis?.clearPrefix('');
      await cache.close();
    },
  };
}
