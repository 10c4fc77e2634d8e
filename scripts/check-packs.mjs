#!/usr/bin/env node
// Proves "install only what you need" from what users really download: packs every publishable package with
// pnpm (which rewrites workspace: ranges), installs the tarballs with plain npm into scratch projects outside the
// workspace, and checks what each kind of user ends up with, that it imports from ESM and CommonJS, and that a
// real round trip works. Also checks each tarball's contents and manifest, and runs publint and
// @arethetypeswrong/cli on it. Node built-ins only. Needs built packages (pnpm build).
//
//   node scripts/check-packs.mjs            REDIS_URL=redis://127.0.0.1:16379 adds the Redis round trip
//   node scripts/check-packs.mjs --keep     leaves the scratch directory for inspection
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const keep = process.argv.includes('--keep');
const started = Date.now();
const failures = [];

/** Third-party packages only some users should get: the point of splitting the packages. */
const HEAVY = ['@redis/client', 'redis', 'cbor-x', 'cbor-extract', 'fflate', '@bokuweb/zstd-wasm'];

/** Who installs what. `expect` lists the third-party packages that user chose; every other HEAVY one must be absent. */
const SCENARIOS = [
  { name: 'memory-only', install: ['@cache/core', '@cache/memory'], expect: [], roundTrip: 'memory' },
  {
    name: 'redis',
    install: ['@cache/core', '@cache/formats', '@cache/redis'],
    expect: ['@redis/client', 'cbor-x'],
    roundTrip: 'redis',
  },
  {
    name: 'redis+compress',
    install: ['@cache/core', '@cache/formats', '@cache/compress', '@cache/redis'],
    expect: ['@redis/client', 'cbor-x', 'fflate', '@bokuweb/zstd-wasm'],
    roundTrip: 'redis-compress',
  },
  { name: 'third-party-fs', install: ['@cache/core', 'cache-backend-fs'], expect: [], roundTrip: 'fs' },
  {
    name: 'cache-memory',
    install: ['@cache/core', '@cache/memory', '@cache/cache'],
    expect: [],
    roundTrip: 'cache',
  },
  // HTTP caching in front of a fetch-style handler; undici is an optional peer, not installed here.
  {
    name: 'http-memory',
    install: ['@cache/core', '@cache/memory', '@cache/cache', '@cache/http'],
    expect: [],
    roundTrip: 'http',
  },
  // keyv comes from the registry as @cache/keyv's peer dependency (npm installs peers).
  {
    name: 'keyv-memory',
    install: ['@cache/core', '@cache/memory', '@cache/keyv'],
    expect: [],
    roundTrip: 'keyv',
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Output and processes

function section(title) {
  console.log(`\n▶ ${title}`);
}
function pass(message) {
  console.log(`  ✔ ${message}`);
}
function fail(scope, message) {
  failures.push(`${scope}: ${message}`);
  console.log(`  ✖ ${scope}: ${message}`);
}

/** Environment for child processes: pnpm's own npm_config_* settings must not leak into the plain-npm installs. */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) =>
      !name.startsWith('npm_config_') || /^npm_config_(registry|cache|proxy|https_proxy|cafile)$/.test(name),
  ),
);
Object.assign(childEnv, { FORCE_COLOR: '0', NO_COLOR: '1', npm_config_update_notifier: 'false' });

/** Runs a command; resolves with its exit code and output, never rejects (a timeout is exit code 124). */
function exec(command, args, { cwd = root, timeoutMs = 120_000, env = childEnv } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? 124 : (code ?? 1), stdout, stderr });
    });
  });
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function tail(text, lines = 25) {
  return text.trim().split('\n').slice(-lines).join('\n    ');
}

function bin(name) {
  const local = join(root, 'node_modules', '.bin', name);
  return existsSync(local) ? local : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Packages and tarballs

function publishablePackages() {
  const dirs = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name));
  dirs.push(join(root, 'examples', 'fs-backend')); // the third-party backend: private here, but packable
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ dir, manifest }) => !manifest.private || dir.endsWith('fs-backend'));
}

/** The files of a .tgz: name (without the leading `package/`) and contents. */
function readTarball(file) {
  const tar = gunzipSync(readFileSync(file));
  const entries = new Map();
  let offset = 0;
  const text = (start, length) => tar.toString('utf8', start, start + length).replace(/\0.*$/s, '');
  while (offset + 512 <= tar.length) {
    const name = text(offset, 100);
    if (name === '') break;
    const size = Number.parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = text(offset + 156, 1);
    const prefix = text(offset + 345, 155);
    const full = prefix ? `${prefix}/${name}` : name;
    if (type === '0' || type === '') {
      entries.set(full.replace(/^package\//, ''), tar.subarray(offset + 512, offset + 512 + size));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

const ALLOWED_FILE =
  /^(package\.json|README\.md|CHANGELOG\.md|LICEN[CS]E(\.md|\.txt)?|dist\/.+\.(js|d\.ts))$/;

/** What users download: only what they need, a complete manifest, and a README that shows how to start. */
function checkTarball(pkg) {
  const scope = pkg.name;
  const files = readTarball(pkg.tarball);
  const manifest = JSON.parse(files.get('package.json')?.toString('utf8') ?? '{}');
  const extra = [...files.keys()].filter((name) => !ALLOWED_FILE.test(name));
  if (extra.length > 0) fail(scope, `ships files users do not need: ${extra.slice(0, 8).join(', ')}`);
  if (!files.has('dist/index.js') || !files.has('dist/index.d.ts'))
    fail(scope, 'dist/index.js or .d.ts missing');
  for (const field of ['description', 'license', 'engines', 'exports', 'types', 'files']) {
    if (manifest[field] === undefined) fail(scope, `package.json has no "${field}"`);
  }
  if (typeof manifest.repository?.url !== 'string') fail(scope, 'package.json has no repository.url');
  if (manifest.type !== 'module') fail(scope, 'package.json "type" is not "module"');
  if (manifest.sideEffects !== false) fail(scope, 'package.json "sideEffects" is not false');
  const main = manifest.exports?.['.'];
  if (typeof main !== 'object' || Object.keys(main)[0] !== 'types')
    fail(scope, 'exports["."] does not start with "types"');
  if (manifest.exports?.['./package.json'] === undefined) fail(scope, 'exports has no "./package.json"');
  const raw = files.get('package.json')?.toString('utf8') ?? '';
  if (raw.includes('workspace:')) fail(scope, 'packed package.json still has workspace: ranges');
  const readme = files.get('README.md')?.toString('utf8');
  if (readme === undefined) {
    fail(scope, 'no README.md in the tarball');
  } else {
    const name = pkg.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const install = new RegExp(`(npm (i|install)|pnpm add|yarn add)[^\\n]*\\s${name}(\\s|$)`, 'm');
    if (!install.test(readme)) fail(scope, 'README has no install line naming the package');
    if (!/```(ts|typescript|js|javascript)\n/.test(readme)) fail(scope, 'README has no code example');
    if (!/options/i.test(readme)) fail(scope, 'README does not document its options');
    if (!/caveat|limitation/i.test(readme)) fail(scope, 'README has no caveats');
  }
  // A dependency nothing imports costs every user its whole tree.
  const code = [...files].filter(([name]) => name.endsWith('.js')).map(([, data]) => data.toString('utf8'));
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    const quoted = dependency.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const used = new RegExp(`(from|import\\(|require\\()\\s*['"]${quoted}(/[^'"]*)?['"]`);
    if (!code.some((text) => used.test(text)))
      fail(scope, `depends on ${dependency} but no file in dist imports it`);
  }
  const bytes = [...files.values()].reduce((sum, data) => sum + data.length, 0);
  return { files: files.size, bytes, manifest };
}

async function pack(pkg, destination) {
  const result = await exec('pnpm', ['pack', '--pack-destination', destination], { cwd: pkg.dir });
  const tarball = result.stdout.trim().split('\n').at(-1)?.trim();
  if (result.code !== 0 || !tarball?.endsWith('.tgz') || !existsSync(tarball)) {
    fail(pkg.name, `pnpm pack failed:\n    ${tail(result.stderr || result.stdout)}`);
    return undefined;
  }
  return tarball;
}

async function lintTarball(pkg) {
  const publint = bin('publint');
  const attw = bin('attw');
  const lint = await exec(publint ?? 'npx', [
    ...(publint ? [] : ['--yes', 'publint']),
    'run',
    '--strict',
    pkg.tarball,
  ]);
  if (lint.code === 0) pass(`${pkg.name}: publint --strict clean`);
  else fail(pkg.name, `publint --strict:\n    ${tail(lint.stdout + lint.stderr)}`);
  const types = await exec(attw ?? 'npx', [
    ...(attw ? [] : ['--yes', '@arethetypeswrong/cli@0.18']),
    pkg.tarball,
    '--profile',
    'esm-only',
    '--format',
    'table-flipped',
    '--no-emoji',
    '--no-color',
  ]);
  if (types.code === 0) pass(`${pkg.name}: attw --profile esm-only clean`);
  else fail(pkg.name, `@arethetypeswrong/cli:\n    ${tail(types.stdout + types.stderr)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Scratch projects

/** Every package in a node_modules tree, nested ones included, with where it sits. */
async function installedPackages(nodeModules, found = []) {
  let names;
  try {
    names = await readdir(nodeModules);
  } catch {
    return found;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const dirs = name.startsWith('@')
      ? (await readdir(join(nodeModules, name))).map((sub) => join(nodeModules, name, sub))
      : [join(nodeModules, name)];
    for (const dir of dirs) {
      const manifestFile = join(dir, 'package.json');
      if (!existsSync(manifestFile)) continue;
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
      found.push({ name: manifest.name, version: manifest.version, dir });
      await installedPackages(join(dir, 'node_modules'), found);
    }
  }
  return found;
}

/** Apparent size (sum of file sizes) and allocated size (disk blocks) of a directory tree. */
async function treeSize(dir) {
  let bytes = 0;
  let blocks = 0;
  const walk = async (path) => {
    const info = await lstat(path);
    bytes += info.isDirectory() ? 0 : info.size;
    blocks += info.blocks * 512;
    if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  await walk(dir);
  return { bytes, blocks };
}

/** The round trip of each scenario, written once and emitted as ESM (import) or CommonJS (require of ESM). */
const ROUND_TRIPS = {
  memory: {
    imports: { '@cache/core': ['CacheKey', 'CacheValue'], '@cache/memory': ['memoryBackend'] },
    body: `
      const cache = memoryBackend({ maxEntries: 100 });
      const key = CacheKey.of('user', '42', { prefix: 'check-packs' });
      await cache.set(key, CacheValue.fromTtl({ name: 'Ada' }, { ttlMs: 60_000 }));
      const hit = await cache.get(key);
      if (hit?.data?.name !== 'Ada') throw new Error('memory round trip read back ' + JSON.stringify(hit));
      await cache.close();
      console.log('memory set/get round trip ok');`,
  },
  cache: {
    imports: { '@cache/cache': ['createCache'], '@cache/memory': ['memoryBackend'] },
    body: `
      const cache = createCache({ store: memoryBackend({ maxEntries: 100 }), namespace: 'check-packs' });
      let loads = 0;
      const load = async () => {
        loads++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return { name: 'Ada' };
      };
      const all = await Promise.all(Array.from({ length: 50 }, () => cache.getOrSet('user:42', load)));
      if (loads !== 1 || all.some((user) => user.name !== 'Ada')) throw new Error('getOrSet ran the loader ' + loads + ' times');
      await cache.close();
      console.log('getOrSet: 50 concurrent callers, 1 loader call');`,
  },
  http: {
    imports: { '@cache/http': ['cacheFetch', 'createHttpCache'], '@cache/memory': ['memoryBackend'] },
    body: `
      const cache = createHttpCache({ store: memoryBackend({ maxEntries: 100 }) });
      let runs = 0;
      const handler = async () => {
        runs++;
        return new Response('hello', { headers: { 'cache-control': 'max-age=60' } });
      };
      const fetchHandler = cacheFetch(cache, handler);
      await (await fetchHandler(new Request('http://localhost/greeting'))).text();
      const again = await fetchHandler(new Request('http://localhost/greeting'));
      const body = await again.text();
      const status = again.headers.get('cache-status') ?? '';
      await cache.close();
      if (runs !== 1 || body !== 'hello' || !/hit/.test(status)) {
        throw new Error('http round trip: ' + runs + ' handler runs, body ' + body + ', Cache-Status ' + status);
      }
      console.log('http: the second GET is a hit (' + status + ')');`,
  },
  keyv: {
    imports: { '@cache/keyv': ['KeyvCacheStore'], '@cache/memory': ['memoryBackend'], keyv: ['Keyv'] },
    body: `
      const keyv = new Keyv({ store: new KeyvCacheStore(memoryBackend({ maxEntries: 100 })), namespace: 'check-packs' });
      await keyv.set('user:42', { name: 'Ada' }, 60_000);
      const hit = await keyv.get('user:42');
      await keyv.clear();
      if (hit?.name !== 'Ada' || (await keyv.get('user:42')) !== undefined) throw new Error('keyv round trip read back ' + JSON.stringify(hit));
      console.log('keyv set/get/clear round trip ok');`,
  },
  fs: {
    imports: {
      '@cache/core': ['CacheKey', 'CacheValue'],
      'cache-backend-fs': ['createFsBackend'],
      'node:fs': ['mkdtempSync', 'rmSync'],
      'node:os': ['tmpdir'],
      'node:path': ['join'],
    },
    body: `
      const directory = mkdtempSync(join(tmpdir(), 'check-packs-fs-'));
      const cache = createFsBackend({ directory });
      const key = CacheKey.of('user', '42', { prefix: 'check-packs' });
      await cache.set(key, CacheValue.fromTtl({ name: 'Ada' }, { ttlMs: 60_000 }));
      const hit = await cache.get(key);
      await cache.close();
      rmSync(directory, { recursive: true, force: true });
      if (hit?.data?.name !== 'Ada') throw new Error('fs round trip read back ' + JSON.stringify(hit));
      console.log('file-system set/get round trip ok');`,
  },
  redis: {
    imports: {
      '@cache/core': ['CacheKey', 'CacheValue'],
      '@cache/formats': ['cbor'],
      '@cache/redis': ['RedisBackend'],
    },
    body: `
      const sample = { name: 'Ada', born: new Date(Date.UTC(1815, 11, 10)), tags: new Set(['math']) };
      const back = cbor.deserialize(cbor.serialize(sample));
      if (back.born.getTime() !== sample.born.getTime() || !back.tags.has('math')) throw new Error('cbor round trip');
      console.log('cbor round trip ok');
      await redisRoundTrip(new RedisBackend({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:1', namespace: 'check-packs:' }));`,
  },
  'redis-compress': {
    imports: {
      '@cache/core': ['CacheKey', 'CacheValue'],
      '@cache/formats': ['cbor'],
      '@cache/compress': ['gzip', 'zstd'],
      '@cache/redis': ['RedisBackend'],
    },
    body: `
      const text = new TextEncoder().encode('cache '.repeat(1000));
      for (const compressor of [gzip(), await zstd()]) {
        const packed = compressor.compress(text);
        const unpacked = compressor.decompress(packed, text.length);
        if (packed.length >= text.length || Buffer.compare(unpacked, text) !== 0) throw new Error(compressor.id + ' round trip');
        console.log(compressor.id + ' round trip ok: ' + text.length + ' -> ' + packed.length + ' bytes');
      }
      await redisRoundTrip(
        new RedisBackend({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:1', namespace: 'check-packs:', valueFormat: cbor, compressor: await zstd() }),
      );`,
  },
};

/** Set, get and delete against REDIS_URL; without it, says so and closes the (never connected) backend. */
const REDIS_ROUND_TRIP = `
async function redisRoundTrip(cache) {
  if (!process.env.REDIS_URL) {
    await cache.close();
    console.log('REDIS_URL is not set: Redis round trip skipped (imports checked)');
    return;
  }
  const key = CacheKey.of('user', String(process.pid), { prefix: 'run-' + Date.now() });
  try {
    await cache.set(key, CacheValue.fromTtl({ name: 'Ada' }, { ttlMs: 60_000 }));
    const hit = await cache.get(key);
    if (hit?.data?.name !== 'Ada') throw new Error('redis round trip read back ' + JSON.stringify(hit));
    await cache.delete(key);
  } finally {
    await cache.close();
  }
  console.log('redis set/get round trip ok');
}
`;

function roundTripSource(kind, moduleSystem) {
  const { imports, body: main } = ROUND_TRIPS[kind];
  const body = kind.startsWith('redis') ? `${REDIS_ROUND_TRIP}${main}` : main;
  const lines = Object.entries(imports).map(([from, names]) =>
    moduleSystem === 'esm'
      ? `import { ${names.join(', ')} } from '${from}';`
      : `const { ${names.join(', ')} } = require('${from}');`,
  );
  if (moduleSystem === 'esm') return `${lines.join('\n')}\n${body}\n`;
  return `'use strict';\n${lines.join('\n')}\n(async () => {${body}\n})().catch((error) => {\n  console.error(error);\n  process.exit(1);\n});\n`;
}

async function runScenario(scenario, tarballs, workDir) {
  const scope = `scenario ${scenario.name}`;
  const dir = join(workDir, scenario.name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `scratch-${scenario.name}`, private: true }, null, 2)}\n`,
  );
  const files = scenario.install.map((name) => tarballs.get(name));
  if (files.includes(undefined)) {
    fail(scope, `no tarball for ${scenario.install.filter((name) => !tarballs.has(name)).join(', ')}`);
    return undefined;
  }
  const install = await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], {
    cwd: dir,
    timeoutMs: 180_000,
  });
  if (install.code !== 0) {
    fail(scope, `npm install failed:\n    ${tail(install.stderr || install.stdout)}`);
    return undefined;
  }
  const installed = await installedPackages(join(dir, 'node_modules'));
  const names = new Set(installed.map((pkg) => pkg.name));
  const ours = [...names].filter((name) => name.startsWith('@cache/') || name === 'cache-backend-fs').sort();
  const wanted = [...scenario.install].sort();
  if (ours.join() === wanted.join()) pass(`${scenario.name}: ours are exactly ${wanted.join(', ')}`);
  else fail(scope, `expected exactly ${wanted.join(', ')} of ours, found ${ours.join(', ')}`);
  const before = failures.length;
  for (const name of HEAVY) {
    const chosen = scenario.expect.includes(name);
    // cbor-extract is cbor-x's optional native accelerator: allowed with cbor-x, not required.
    if (name === 'cbor-extract' && scenario.expect.includes('cbor-x')) continue;
    if (names.has(name) && !chosen) fail(scope, `${name} is installed but this user did not choose it`);
    if (!names.has(name) && chosen) fail(scope, `${name} is missing`);
  }
  const zstd = [...names].filter((name) => /zstd/i.test(name) && !scenario.expect.includes(name));
  if (zstd.length > 0) fail(scope, `zstd packages installed but not chosen: ${zstd.join(', ')}`);
  if (failures.length === before) {
    pass(`${scenario.name}: third-party packages as chosen (${scenario.expect.join(', ') || 'none'})`);
  }
  // npm must have taken ours from the tarballs, never from a registry.
  const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'));
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    const name = path.replace(/^.*node_modules\//, '');
    if (
      (name.startsWith('@cache/') || name === 'cache-backend-fs') &&
      !String(entry.resolved).startsWith('file:')
    ) {
      fail(scope, `${name} was resolved from ${entry.resolved}, not from its tarball`);
    }
  }
  for (const moduleSystem of ['esm', 'cjs']) {
    const file = join(dir, moduleSystem === 'esm' ? 'check.mjs' : 'check.cjs');
    await writeFile(file, roundTripSource(scenario.roundTrip, moduleSystem));
    const run = await exec(process.execPath, [file], { cwd: dir, timeoutMs: 30_000 });
    const how = moduleSystem === 'esm' ? 'import (ESM)' : 'require (CommonJS, require(esm))';
    if (run.code === 0) pass(`${scenario.name}: ${how}: ${run.stdout.trim().split('\n').join('; ')}`);
    else fail(scope, `${how} failed:\n    ${tail(run.stderr || run.stdout)}`);
  }
  const size = await treeSize(join(dir, 'node_modules'));
  return { name: scenario.name, packages: installed.length, ...size, list: installed };
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const packages = publishablePackages();
  section(`packing ${packages.length} packages`);
  for (const pkg of packages) {
    pkg.name = pkg.manifest.name;
    if (!existsSync(join(pkg.dir, 'dist', 'index.js'))) {
      fail(pkg.name, `not built (${relative(root, pkg.dir)}/dist/index.js missing): run pnpm build first`);
    }
  }
  const workDir = await mkdtemp(join(tmpdir(), 'cache-check-packs-'));
  try {
    const tarDir = join(workDir, 'tarballs');
    await mkdir(tarDir);
    const built = packages.filter((pkg) => existsSync(join(pkg.dir, 'dist', 'index.js')));
    await pool(built, 2, async (pkg) => {
      pkg.tarball = await pack(pkg, tarDir);
    });
    const packed = built.filter((pkg) => pkg.tarball !== undefined);
    for (const pkg of packed) {
      const { files, bytes } = checkTarball(pkg);
      pass(`${pkg.name}: ${files} files, ${(bytes / 1024).toFixed(1)} kB unpacked`);
    }
    const tarballs = new Map(packed.map((pkg) => [pkg.name, pkg.tarball]));

    section('publint and @arethetypeswrong/cli on each tarball; npm installs into scratch projects');
    const [, sizes] = await Promise.all([
      pool(packed, 2, lintTarball),
      pool(SCENARIOS, 1, (scenario) => runScenario(scenario, tarballs, workDir)),
    ]);

    section('installed dependency trees (node_modules of each scratch project)');
    for (const size of sizes.filter(Boolean)) {
      console.log(
        `  ${size.name.padEnd(16)} ${String(size.packages).padStart(3)} packages  ` +
          `${(size.bytes / 1024).toFixed(0).padStart(6)} kB of files  ${(size.blocks / 1024).toFixed(0).padStart(6)} kB on disk  ` +
          `(${size.list.map((pkg) => `${pkg.name}@${pkg.version}`).join(', ')})`,
      );
    }
  } finally {
    if (keep) console.log(`\nscratch directory kept: ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    console.log(`\n✖ check-packs: ${failures.length} failure(s) in ${seconds} s:`);
    for (const failure of failures) console.log(`  - ${failure.split('\n')[0]}`);
    return 1;
  }
  console.log(`\n✔ check-packs: all packages and scenarios passed in ${seconds} s`);
  return 0;
}

main().then(
  (status) => process.exit(status),
  (error) => {
    console.error(`\n✖ check-packs crashed: ${error.stack ?? error}`);
    process.exit(1);
  },
);
