import os from 'node:os';
import { createClient } from '@redis/client';
import type { BenchEnv } from './types.js';

/** The machine a run happened on, printed with every RESULTS.md section. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly v8: string;
  readonly os: string;
  /** 1-minute load average when the suite started: a busy machine makes noisy figures. */
  readonly load: number;
}

/** Describes this machine now. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load: os.loadavg()[0] ?? Number.NaN,
  };
}

/** Reads the Redis servers `pnpm bench` started from the environment. */
export function benchEnv(env: NodeJS.ProcessEnv = process.env): BenchEnv {
  const url = env.REDIS_URL?.trim();
  const nodes = (env.REDIS_CLUSTER_NODES ?? '')
    .split(',')
    .map((node) => node.trim())
    .filter((node) => node !== '');
  return { redisUrl: url === '' ? undefined : url, clusterNodes: nodes };
}

/**
 * `redis_version` from `INFO server` of the server at `url`, or a short reason when it cannot be read.
 * Reads only; gives up after `timeoutMs`.
 */
export async function redisServerVersion(url: string, timeoutMs = 2000): Promise<string> {
  const client = createClient({
    url,
    socket: { connectTimeout: timeoutMs, reconnectStrategy: false },
    disableOfflineQueue: true,
  });
  client.on('error', () => {
    // Reported through the rejected connect/info below.
  });
  try {
    await client.connect();
    const info = await client.info('server');
    const match = /^redis_version:(\S+)/m.exec(info);
    const server = /^(valkey_version|server_name):(\S+)/m.exec(info);
    const version = match?.[1] ?? 'unknown version';
    return server?.[1] === 'valkey_version' ? `Valkey ${server[2]}` : `Redis ${version}`;
  } catch (error) {
    // The code or class name only: a message could echo the URL, credentials included.
    const code = (error as { code?: unknown }).code;
    return `unreachable (${typeof code === 'string' ? code : error instanceof Error ? error.constructor.name : 'error'})`;
  } finally {
    if (client.isOpen) await client.close();
  }
}

/** Where the URL points, without credentials, for the report. */
export function redisEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'an unparsable REDIS_URL';
  }
}
