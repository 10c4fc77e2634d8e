import { fromFetchHeaders } from '../headers.js';
import type { HttpCache } from '../http-cache.js';
import type { OriginResponse, RequestChanges } from '../origin.js';
import type { CacheRequest } from '../policy/request.js';

/** A fetch-style handler: Hono, route handlers, any runtime with `Request` and `Response`. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@link cacheFetch}. */
export interface CacheFetchOptions {
  /** Receives background work (revalidations under stale-while-revalidate), e.g. a serverless `waitUntil`. */
  readonly waitUntil?: (work: Promise<unknown>) => void;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

async function* chunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function toReadable(body: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/**
 * Wraps a fetch-style handler with `cache`: `(request) => Promise<Response>`. The handler gets the request (with
 * validators added when the cache revalidates) and may be called again in the background for a revalidation.
 */
export function cacheFetch(
  cache: HttpCache,
  handler: FetchHandler,
  options: CacheFetchOptions = {},
): (request: Request) => Promise<Response> {
  return async (request) => {
    const view: CacheRequest = {
      method: request.method.toUpperCase(),
      url: new URL(request.url),
      headers: request.headers,
    };
    const origin = async (changes: RequestChanges): Promise<OriginResponse> => {
      let forwarded = request;
      if (changes.remove.length > 0 || Object.keys(changes.set).length > 0) {
        const headers = new Headers(request.headers);
        for (const name of changes.remove) headers.delete(name);
        for (const [name, value] of Object.entries(changes.set)) headers.set(name, value);
        forwarded = new Request(request, { headers });
      }
      const res = await handler(forwarded);
      return {
        status: res.status,
        statusText: res.statusText,
        headers: fromFetchHeaders(res.headers),
        body: res.body === null ? null : chunks(res.body),
      };
    };
    const handled = await cache.handle(view, origin);
    if (handled.background !== undefined) {
      const work = handled.background();
      if (options.waitUntil !== undefined) options.waitUntil(work);
    }
    const { response } = handled;
    const headers = new Headers();
    for (const [name, value] of response.headers) headers.append(name, value);
    const body = response.body;
    const payload =
      NULL_BODY.has(response.status) || body === null
        ? null
        : body instanceof Uint8Array
          ? body
          : toReadable(body);
    return new Response(payload, { status: response.status, statusText: response.statusText, headers });
  };
}
