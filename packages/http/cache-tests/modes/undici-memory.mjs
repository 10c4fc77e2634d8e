// Mode "undici-memory": the same node:http proxy as modes/undici.mjs, with undici's own MemoryCacheStore instead
// of ours. The comparison the issue asks for: our store must score at least what this one scores.
import { Agent, cacheStores, interceptors } from 'undici';
import { startUndiciProxy } from './undici.mjs';

export const description =
  'node:http proxy through undici’s cache interceptor, with undici’s own MemoryCacheStore';
export const stores = ['memory'];

export async function start({ origin, port }) {
  const store = new cacheStores.MemoryCacheStore({ maxCount: 10_000 });
  const dispatcher = new Agent().compose(interceptors.cache({ store, type: 'shared' }));
  return startUndiciProxy({ origin, port, dispatcher });
}
