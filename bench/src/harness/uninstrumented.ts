import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The `@cache/cache` module, as the bench imports it. */
export type CacheModule = typeof import('@cache/cache');

/**
 * `@cache/cache` as it would be built without its diagnostics: a copy of its `dist/` (under the bench's
 * `node_modules/`, so its own imports resolve as the original's) whose `tracing.js` finds no channels, exactly as on
 * a runtime without `diagnostics_channel`. Everything else is the same file. `name` keeps copies of concurrent
 * users apart.
 */
export async function uninstrumentedCache(name = '.cache-uninstrumented'): Promise<CacheModule> {
  const entry = createRequire(import.meta.url).resolve('@cache/cache');
  const bench = fileURLToPath(new URL('../../', import.meta.url));
  const copy = join(bench, 'node_modules', name);
  rmSync(copy, { recursive: true, force: true });
  cpSync(dirname(entry), copy, { recursive: true });
  const tracing = join(copy, 'tracing.js');
  const source = readFileSync(tracing, 'utf8');
  const stripped = source.replace(
    'export const channels = diagnostics();',
    'export const channels = undefined;',
  );
  if (stripped === source)
    throw new Error('@cache/cache dist/tracing.js no longer defines `channels` as expected');
  writeFileSync(tracing, stripped);
  return (await import(pathToFileURL(join(copy, 'index.js')).href)) as CacheModule;
}
