// Coherence when the channel breaks: the subscriber's connection killed between a write and a read (single node
// and cluster), a silent partition (a proxy that stops forwarding, so no socket error is ever seen), a server
// restart that loses everything, and no server at all. In every case the process must not serve its old copy
// past the bound, and must trust its memory tier again (after clearing it) once the channel is back.
// Own servers on ports 18150-18151 and a cluster on 18160-18165; the test command's shared servers otherwise.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { CacheError, CacheKey, type CompositionErrorEvent } from '@cache/core';
import { memoryBackend } from '@cache/memory';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CoherenceErrorEvent,
  type CoherenceRedisTarget,
  type CoherentTiers,
  coherentTiers,
  RedisBackend,
  type TrustChange,
} from '../src/index.js';
import { cacheIn, read, stopsServing as stopsServingWithin, value } from './coherence-helpers.js';
import { CLUSTER_NODES, eventually, REDIS_URL, sleep, uniqueNamespace } from './helpers.js';
import { rawCommand, TestCluster, TestServer } from './servers.js';

const BOUND_MS = 1000;
const HEARTBEAT_MS = 200;
/** Timers fire late on a loaded two-core machine; the bound is counted in event-loop time. */
const TIMER_SLACK_MS = 300;

interface Probe {
  readonly tiers: CoherentTiers;
  readonly errors: CoherenceErrorEvent[];
  readonly changes: TrustChange[];
  /** Layer errors the composition kept going after (an L2 write that failed while L1 took it, say). */
  readonly layerErrors: CompositionErrorEvent[];
}

const opened: Probe[] = [];
const servers: Array<TestServer | TestCluster> = [];
afterAll(async () => {
  // Servers are stopped even when a close fails: they must never outlive the run.
  const closed = await Promise.allSettled(opened.map(({ tiers }) => tiers.close()));
  await Promise.all(servers.map((server) => server.stop()));
  for (const result of closed) if (result.status === 'rejected') throw result.reason;
});

function participant(l2Target: CoherenceRedisTarget, bus: CoherenceRedisTarget, namespace: string): Probe {
  const errors: CoherenceErrorEvent[] = [];
  const changes: TrustChange[] = [];
  const layerErrors: CompositionErrorEvent[] = [];
  const tiers = coherentTiers({
    l1: memoryBackend({ maxEntries: 1000 }),
    l2: new RedisBackend({
      ...(l2Target as { url: string }),
      namespace,
      responseTimeoutMs: 500,
      connectTimeoutMs: 500,
      reconnect: { delayMs: 20, maxDelayMs: 200 },
    }),
    redis: { connectTimeoutMs: 500, ...bus },
    maxStalenessMs: BOUND_MS,
    heartbeatIntervalMs: HEARTBEAT_MS,
    onError: (event) => errors.push(event),
    onTrustChange: (change) => changes.push(change),
    composition: { onError: (event) => layerErrors.push(event) },
  });
  const probe = { tiers, errors, changes, layerErrors };
  opened.push(probe);
  return probe;
}

const stopsServing = (tiers: CoherentTiers, key: CacheKey, old: unknown): Promise<number> =>
  stopsServingWithin(tiers, key, old, { limitMs: BOUND_MS + TIMER_SLACK_MS, readErrorsServeNothing: true });

async function clusterPorts(): Promise<number[]> {
  const seed = Number(CLUSTER_NODES[0]?.split(':')[1]);
  const nodes = await rawCommand(seed, 'CLUSTER', 'NODES');
  return nodes
    .trim()
    .split('\n')
    .map((line) => Number(line.split(' ')[1]?.split('@')[0]?.split(':')[1]));
}

/** Kills the subscriber connection of `tiers` wherever it is; returns the port it was on. */
async function killSubscriber(tiers: CoherentTiers, ports: readonly number[]): Promise<number> {
  const name = `name=cache-coherence:${tiers.instanceId} `;
  for (const port of ports) {
    const list = await rawCommand(port, 'CLIENT', 'LIST', 'TYPE', 'pubsub');
    const line = list.split('\n').find((l) => l.includes(name));
    const id = line?.match(/\bid=(\d+)/)?.[1];
    if (id !== undefined) {
      expect(await rawCommand(port, 'CLIENT', 'KILL', 'ID', id)).toBe('1');
      return port;
    }
  }
  throw new Error('subscriber connection not found');
}

const singlePort = Number(new URL(REDIS_URL).port || 6379);

for (const mode of ['single', 'cluster'] as const) {
  it(`${mode}: subscriber connection killed between a write and a read: the old copy is not served`, async () => {
    const target: CoherenceRedisTarget =
      mode === 'single' ? { url: REDIS_URL } : { cluster: { nodes: CLUSTER_NODES } };
    const ports = mode === 'single' ? [singlePort] : await clusterPorts();
    const ns = uniqueNamespace(`coherence-faults-${mode}`);
    const a = participant(target, target, ns);
    const b = participant(target, target, ns);
    await Promise.all([a.tiers.whenTrusted(10_000), b.tiers.whenTrusted(10_000)]);
    const key = CacheKey.of('kill', mode);
    await b.tiers.set(key, value('v1'));
    await cacheIn(a.tiers, key, 'v1');
    const received = a.tiers.stats.received;

    await killSubscriber(a.tiers, ports);
    await b.tiers.set(key, value('v2'));
    const ms = await stopsServing(a.tiers, key, 'v1');
    const missed = a.tiers.stats.received === received;
    console.info(
      `[coherence faults ${mode}] after the kill: old copy gone in ${ms.toFixed(1)} ms; message ${missed ? 'missed (L1 bypassed, then cleared)' : 'received on the new subscription'}`,
    );
    expect(a.changes).toContainEqual({ trusted: false, reason: 'subscriber connection lost' });

    await a.tiers.whenTrusted(10_000);
    expect(a.tiers.stats.sessions).toBeGreaterThanOrEqual(2);
    expect(a.tiers.stats.clears).toBeGreaterThanOrEqual(2);
    await cacheIn(a.tiers, key, 'v2');
    // And the new subscription carries invalidations again.
    await b.tiers.delete(key);
    await stopsServing(a.tiers, key, 'v2');
  });
}

/** A TCP proxy that can stop forwarding without closing anything: a silent partition. */
class FreezingProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #frozen = false;
  constructor(upstreamPort: number) {
    this.#server = createServer((client) => {
      const upstream = tcpConnect(upstreamPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => this.#sockets.delete(socket));
        if (this.#frozen) socket.pause();
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as { port: number }).port));
    });
  }
  /** Stops forwarding in both directions; connections stay open, new ones are accepted and stall. */
  freeze(): void {
    this.#frozen = true;
    for (const socket of this.#sockets) socket.pause();
  }
  /** Ends the partition: the stalled connections are reset, new ones flow. */
  heal(): void {
    this.#frozen = false;
    for (const socket of this.#sockets) socket.destroy();
  }
  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe('coherence under faults (single node)', () => {
  it('silent partition of the channel: L1 is bypassed within the bound, then cleared and trusted again', async () => {
    const proxy = new FreezingProxy(singlePort);
    const port = await proxy.listen();
    try {
      const ns = uniqueNamespace('coherence-partition');
      const direct: CoherenceRedisTarget = { url: REDIS_URL };
      const a = participant(direct, { url: `redis://127.0.0.1:${port}` }, ns);
      const b = participant(direct, direct, ns);
      await Promise.all([a.tiers.whenTrusted(10_000), b.tiers.whenTrusted(10_000)]);
      const key = CacheKey.of('partition');
      await b.tiers.set(key, value('v1'));
      await cacheIn(a.tiers, key, 'v1');

      proxy.freeze();
      await b.tiers.set(key, value('v2'));
      const ms = await stopsServing(a.tiers, key, 'v1');
      console.info(`[coherence faults] silent partition: old copy gone after ${ms.toFixed(0)} ms`);
      expect(a.tiers.trusted).toBe(false);
      expect(await read(a.tiers, key)).toEqual({ data: 'v2', source: 'cache.redis' });
      expect(a.changes).toContainEqual({ trusted: false, reason: 'heartbeat overdue' });
      const bypassed = a.tiers.stats.bypassedReads;
      expect(bypassed).toBeGreaterThan(0);

      proxy.heal();
      await a.tiers.whenTrusted(10_000);
      await cacheIn(a.tiers, key, 'v2');
    } finally {
      await proxy.close();
    }
  });

  it('server restarted empty between a write and a read: the old copy is not served, trust comes back', async () => {
    const server = new TestServer(18150);
    servers.push(server);
    await server.start();
    const target: CoherenceRedisTarget = { url: 'redis://127.0.0.1:18150' };
    const ns = uniqueNamespace('coherence-restart');
    const a = participant(target, target, ns);
    const b = participant(target, target, ns);
    await Promise.all([a.tiers.whenTrusted(10_000), b.tiers.whenTrusted(10_000)]);
    const key = CacheKey.of('restart');
    await b.tiers.set(key, value('v1'));
    await cacheIn(a.tiers, key, 'v1');

    await server.stop({ hard: true });
    // The killed process can hold its port for a moment after it is reported gone (its threads still exiting).
    await eventually(() => server.start({ fresh: true }), 10_000, 100);
    await eventually(() => b.tiers.set(key, value('v2')), 10_000, 50);
    await stopsServing(a.tiers, key, 'v1');
    await a.tiers.whenTrusted(10_000);
    await eventually(async () => expect((await read(a.tiers, key)).data).toBe('v2'), 5000, 50);
    await cacheIn(a.tiers, key, 'v2');
    // One report for the outage, not one per heartbeat.
    expect(a.errors.filter((e) => e.operation === 'subscribe').length).toBeLessThanOrEqual(3);
  });

  it('no server at all: never trusted, reads go to Redis and fail fast, set fails and keeps nothing', async () => {
    const target: CoherenceRedisTarget = { url: 'redis://127.0.0.1:18151' };
    const a = participant(target, target, uniqueNamespace('coherence-absent'));
    await expect(a.tiers.whenTrusted(500)).rejects.toMatchObject({ code: 'TIMEOUT' });
    const key = CacheKey.of('absent');
    await expect(a.tiers.get(key)).rejects.toMatchObject({ code: 'CONNECTION' });
    // Strict writes: Redis did not take it, so L1 drops it again and the caller hears about it.
    await expect(a.tiers.set(key, value(1))).rejects.toMatchObject({ code: 'CONNECTION' });
    expect(a.tiers.composition.l1.get(key)).toBeUndefined();
    expect(a.layerErrors).toEqual([]);
    await sleep(HEARTBEAT_MS * 3);
    // One report for the subscriber's outage (not one per attempt), one for the announcement that could not go out.
    expect(a.errors.map((e) => e.operation).sort()).toEqual(['publish', 'subscribe']);
    expect(a.errors.every((e) => CacheError.is(e.error) && e.error.retryable)).toBe(true);
    const started = performance.now();
    await a.tiers.close();
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('close() while connecting to a server that never answers drops every connection at once', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.resume(); // read and drop what the client sends, so its close is seen
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const target: CoherenceRedisTarget = { url: `redis://127.0.0.1:${port}` };
      const a = participant(target, { ...target, connectTimeoutMs: 10_000 }, 'x:');
      await eventually(async () => expect(sockets.size).toBeGreaterThanOrEqual(2), 2000, 20);
      const started = performance.now();
      await a.tiers.close();
      expect(performance.now() - started).toBeLessThan(1000);
      await eventually(async () => expect(sockets.size).toBe(0), 1000, 20);
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('close() releases the subscriber and publisher connections', async () => {
    const ns = uniqueNamespace('coherence-close');
    const a = participant({ url: REDIS_URL }, { url: REDIS_URL }, ns);
    await a.tiers.whenTrusted(10_000);
    const name = `name=cache-coherence:${a.tiers.instanceId} `;
    expect(await rawCommand(singlePort, 'CLIENT', 'LIST')).toContain(name);
    await a.tiers.close();
    await eventually(
      async () => expect(await rawCommand(singlePort, 'CLIENT', 'LIST')).not.toContain(name),
      2000,
    );
    expect(a.tiers.trusted).toBe(false);
  });
});

describe('coherence under faults (own cluster)', () => {
  it("the channels' master changes (manual failover, then killed): old copies are not served, trust comes back", async () => {
    const ports = [18160, 18161, 18162, 18163, 18164, 18165];
    const cluster = new TestCluster(ports);
    servers.push(cluster);
    await cluster.start();
    const target: CoherenceRedisTarget = { cluster: { nodes: ports.map((p) => `127.0.0.1:${p}`) } };
    const ns = uniqueNamespace('coherence-failover');
    const a = participant(target, target, ns);
    const b = participant(target, target, ns);
    await Promise.all([a.tiers.whenTrusted(10_000), b.tiers.whenTrusted(10_000)]);
    const key = CacheKey.of('failover');
    await b.tiers.set(key, value('v1'));
    await cacheIn(a.tiers, key, 'v1');
    const slot = Number(
      await rawCommand(ports[0] as number, 'CLUSTER', 'KEYSLOT', a.tiers.channels.invalidations),
    );

    // 1. A manual failover: the master stays up as a replica, so only Redis can tell the subscriber it moved.
    const master = await cluster.masterOf(slot, ports[0] as number);
    // Right after the cluster is created, a node may not list every replica yet.
    const replica = await eventually(() => replicaOf(master.port, ports), 20_000, 200);
    // A manual failover gives up if the replica is not in sync yet: ask again until it has taken over.
    await eventually(
      async () => {
        if ((await cluster.masterOf(slot, replica)).port === replica) return;
        await rawCommand(replica, 'CLUSTER', 'FAILOVER').catch(() => undefined);
        throw new Error('the replica has not taken over yet');
      },
      30_000,
      500,
    );
    await eventually(() => b.tiers.set(key, value('v2')), 30_000, 100);
    let ms = await stopsServing(a.tiers, key, 'v1');
    console.info(`[coherence faults] manual failover: old copy gone ${ms.toFixed(0)} ms after the write`);
    await a.tiers.whenTrusted(30_000);
    // A's own Redis backend may still be catching up with the new topology: its reads can fail for a while.
    await eventually(() => cacheIn(a.tiers, key, 'v2'), 30_000, 100);
    const lost = a.changes.filter((c) => !c.trusted).length;
    expect(lost).toBeGreaterThanOrEqual(1);

    // 2. The new master is killed: the old one takes over again.
    const victim = cluster.servers.find((server) => server.port === replica) as TestServer;
    expect(await subscriberPort(a.tiers, ports)).toBe(replica);
    await victim.stop({ hard: true });
    // Until the replica takes over, B's write or its announcement fails, and B's caller is told so.
    await eventually(() => b.tiers.set(key, value('v3')), 60_000, 200);
    ms = await stopsServing(a.tiers, key, 'v2');
    console.info(`[coherence faults] master killed: old copy gone ${ms.toFixed(0)} ms after the write`);
    expect(a.changes.filter((c) => !c.trusted).length).toBeGreaterThan(lost);

    await a.tiers.whenTrusted(30_000);
    await eventually(() => cacheIn(a.tiers, key, 'v3'), 30_000, 100);
    await b.tiers.delete(key);
    await stopsServing(a.tiers, key, 'v3');
  }, 150_000);
});

/** Where the subscriber connection of `tiers` is (it must always be a master). */
async function subscriberPort(tiers: CoherentTiers, ports: readonly number[]): Promise<number | undefined> {
  for (const port of ports) {
    const list = await rawCommand(port, 'CLIENT', 'LIST', 'TYPE', 'pubsub').catch(() => '');
    if (list.includes(`name=cache-coherence:${tiers.instanceId} `)) return port;
  }
  return undefined;
}

/** The port of a healthy replica of the master on `masterPort`. */
async function replicaOf(masterPort: number, ports: readonly number[]): Promise<number> {
  const id = (await rawCommand(masterPort, 'CLUSTER', 'MYID')).trim();
  const nodes = await rawCommand(masterPort, 'CLUSTER', 'NODES');
  for (const line of nodes.trim().split('\n')) {
    const [, address, flags, masterId] = line.split(' ');
    if (masterId === id && flags?.includes('slave') && !flags.includes('fail')) {
      const port = Number(address?.split('@')[0]?.split(':')[1]);
      if (ports.includes(port)) return port;
    }
  }
  throw new Error(`no replica of ${masterPort} (${id}) in:\n${nodes}`);
}
