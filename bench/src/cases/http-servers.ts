/**
 * The servers the http suite loads with autocannon, one per child process so the load generator and the server
 * do not share an event loop: `node --import tsx http-servers.ts <kind> [redisUrl]`. Prints `{"port":N}` once it
 * listens and exits when its stdin closes.
 *
 * Every kind answers `GET /item/<n>` with the same 1 KB JSON document, produced by a handler that takes 10 ms
 * (a database call, say) and marks it `Cache-Control: public, max-age=3600`.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const HANDLER_MS = 10;

function documentFor(path: string): Buffer {
  const filler = 'x'.repeat(1000 - path.length);
  return Buffer.from(JSON.stringify({ path, filler }));
}

/** The application's handler: 10 ms of waiting, then the document. */
async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  await sleep(HANDLER_MS);
  const body = documentFor(req.url ?? '/');
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': body.byteLength,
    'cache-control': 'public, max-age=3600',
  });
  res.end(body);
}

interface Stored {
  readonly status: number;
  readonly headers: Record<string, string | number>;
  readonly body: Buffer;
}

/**
 * The reference: a cache written by hand for this one route. A hit is a Map lookup and one `writeHead` + `end`
 * of the stored headers and body; a miss runs the handler's work and keeps what it produced. No HTTP semantics
 * at all (no freshness, no Vary, no Age, no Cache-Status): the floor of serving a response from memory.
 */
function byHand(): RequestListener {
  const stored = new Map<string, Stored>();
  return (req, res) => {
    const hit = stored.get(req.url ?? '/');
    if (hit !== undefined) {
      res.writeHead(hit.status, hit.headers);
      res.end(hit.body);
      return;
    }
    void sleep(HANDLER_MS).then(() => {
      const body = documentFor(req.url ?? '/');
      const entry: Stored = {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'content-length': body.byteLength,
          'cache-control': 'public, max-age=3600',
        },
        body,
      };
      stored.set(req.url ?? '/', entry);
      res.writeHead(entry.status, entry.headers);
      res.end(entry.body);
    });
  };
}

async function listener(kind: string, redisUrl: string | undefined): Promise<RequestListener> {
  switch (kind) {
    case 'uncached':
      return (req, res) => void handler(req, res);
    case 'by-hand':
      return byHand();
    case 'middleware-memory':
    case 'middleware-redis': {
      const { middlewareListener } = await import('./http-middleware.js');
      return middlewareListener(handler, kind === 'middleware-redis' ? redisUrl : undefined);
    }
    case 'express-by-hand': {
      // The same by-hand cache, as the route's handler in an Express 5 app.
      const { default: express } = await import('express');
      const app = express();
      app.get('/item/:id', byHand());
      return app;
    }
    case 'express-middleware': {
      const { cacheMiddlewareFor } = await import('./http-middleware.js');
      const { default: express } = await import('express');
      const app = express();
      app.get('/item/:id', await cacheMiddlewareFor(undefined), (req, res) => void handler(req, res));
      return app;
    }
    default:
      throw new Error(`unknown server kind ${kind}`);
  }
}

const [kind = '', redisUrl] = process.argv.slice(2);
const server = createServer(await listener(kind, redisUrl));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
