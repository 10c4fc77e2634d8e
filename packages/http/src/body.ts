/** A response body: bytes, a stream of chunks, or none. */
export type Body = Uint8Array | AsyncIterable<Uint8Array> | null;

/** The outcome of reading a body up to a limit. */
export type Collected =
  | { readonly complete: true; readonly bytes: Uint8Array }
  | { readonly complete: false; readonly body: AsyncIterable<Uint8Array>; readonly reason: 'too-large' };

const EMPTY = new Uint8Array(0);

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Reads `body` into bytes while it stays within `maxBytes`; past that, gives back a stream of everything (the
 * chunks already read, then the rest), so a large body is passed through without being held in memory.
 */
export async function collect(body: Body, maxBytes: number): Promise<Collected> {
  if (body === null) return { complete: true, bytes: EMPTY };
  if (body instanceof Uint8Array) {
    if (body.byteLength <= maxBytes) return { complete: true, bytes: body };
    return { complete: false, body: once(body), reason: 'too-large' };
  }
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return { complete: true, bytes: concat(chunks, size) };
    const chunk = next.value;
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size > maxBytes) return { complete: false, body: resume(chunks, iterator), reason: 'too-large' };
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function* resume(read: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const chunk of read) yield chunk;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    yield next.value;
  }
}

/** Consumes and drops a body (a response the cache does not pass on). */
export async function drain(body: Body): Promise<void> {
  if (body === null || body instanceof Uint8Array) return;
  for await (const _ of body) {
    // discard
  }
}
