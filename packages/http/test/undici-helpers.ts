import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher, interceptors, request } from 'undici';
import type { UndiciStoreContract } from '../src/undici/index.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';

/** A Redis namespace no other test run uses. */
export function uniqueNamespace(name: string): string {
  return `http-undici:${name}:${randomBytes(4).toString('hex')}:`;
}

/** A request the origin received: what a test counts and inspects. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

/** A node:http origin on a free loopback port, answering with `handler` and recording every request. */
export interface Origin {
  readonly url: string;
  readonly received: Received[];
  /** How many requests reached the origin, optionally only those of `method`. */
  count(method?: string): number;
  close(): Promise<void>;
}

export async function startOrigin(
  handler: (req: IncomingMessage, res: ServerResponse, index: number) => void,
): Promise<Origin> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => handler(req, res, received.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    count: (method) => received.filter((r) => method === undefined || r.method === method).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An undici agent with the cache interceptor (a shared cache) over `store`. */
export function cachingAgent(store: UndiciStoreContract): Dispatcher {
  return new Agent().compose(interceptors.cache({ store, type: 'shared' }));
}

/** What a test reads of a response. */
export interface Fetched {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One request through `dispatcher`, body read to the end. */
export async function fetchVia(
  dispatcher: Dispatcher,
  url: string,
  options: { method?: Dispatcher.HttpMethod; headers?: Record<string, string> } = {},
): Promise<Fetched> {
  const res = await request(url, {
    dispatcher,
    method: options.method ?? 'GET',
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** Every byte value, several times: a body no text encoding survives. */
export function binaryBody(length = 1024): Buffer {
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = (i * 7 + 3) % 256;
  return body;
}
