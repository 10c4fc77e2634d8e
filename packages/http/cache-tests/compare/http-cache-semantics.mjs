// Baseline for the record: http-cache-semantics 4.3.0 as the whole policy (storable, evaluateRequest,
// revalidationHeaders, revalidatedPolicy), one stored response per URL in a Map, behind the same kind of node:http
// reverse proxy. Not a mode (not run by `cache-tests`); run it with
//   node cache-tests/run.mjs --no-gate --mode cache-tests/compare/http-cache-semantics.mjs --store memory
import { createServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../package.json', import.meta.url));
const CachePolicy = require('http-cache-semantics');
export const description = 'http-cache-semantics baseline';
export const stores = ['memory'];
function forward(origin, req, headers, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(req.url, origin);
    const r = httpRequest(u, { method: req.method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          raw: res.rawHeaders,
          body: Buffer.concat(chunks),
        }),
      );
    });
    r.on('error', reject);
    r.end(body);
  });
}
export async function start({ origin, port }) {
  const store = new Map();
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const key = req.url;
    const preq = { method: req.method, url: req.url, headers: req.headers };
    try {
      if (!['GET', 'HEAD'].includes(req.method)) {
        const r = await forward(origin, req, req.headers, body);
        if (r.status < 400) store.delete(key);
        send(res, r.status, r.headers, r.body, req.method);
        return;
      }
      const cached = store.get(key);
      if (cached) {
        const ev = cached.policy.evaluateRequest(preq);
        if (ev.response && !ev.revalidation?.synchronous) {
          send(res, cached.policy.status(), ev.response.headers, cached.body, req.method);
          return;
        }
        const r = await forward(origin, req, cached.policy.revalidationHeaders(preq), undefined);
        const { policy, modified } = cached.policy.revalidatedPolicy(preq, {
          status: r.status,
          headers: r.headers,
        });
        const b = modified ? r.body : cached.body;
        if (policy.storable()) store.set(key, { policy, body: b });
        else store.delete(key);
        send(res, modified ? r.status : policy.status(), policy.responseHeaders(), b, req.method);
        return;
      }
      const r = await forward(origin, req, req.headers, undefined);
      const policy = new CachePolicy(preq, { status: r.status, headers: r.headers });
      if (policy.storable()) store.set(key, { policy, body: r.body });
      send(res, r.status, r.headers, r.body, req.method);
    } catch (e) {
      res.statusCode = 502;
      res.end(String(e));
    }
  });
  function send(res, status, headers, body, method) {
    res.writeHead(status, headers);
    res.end(method === 'HEAD' ? undefined : body);
  }
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
