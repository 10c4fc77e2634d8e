#!/usr/bin/env node
// Every ```ts block of the READMEs and guides compiles as written, because a new user copies them. Extracts the
// blocks into .docs-check/ (git-ignored, inside the repo), links every workspace package there by its name so
// `@cache/*` imports resolve to the built packages (dist, through their `exports`), and compiles all blocks as one
// strict NodeNext program. An error is reported at the Markdown file and line of the block. Node built-ins only;
// needs built packages (pnpm build).
//
// A block opts out with a fence of ```ts nocheck: for deliberate fragments only, never to hide a broken example.
//
//   node scripts/check-docs.mjs          --keep leaves .docs-check/ for inspection
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const scratch = join(root, '.docs-check');
const keep = process.argv.includes('--keep');

/** The Markdown files whose blocks a user may copy. */
function sources() {
  const files = ['README.md', 'bench/README.md'];
  const mdIn = (dir) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter((name) => name.endsWith('.md'))
          .map((name) => `${dir}/${name}`)
      : [];
  files.push(...mdIn('docs'));
  for (const group of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, group))) {
      files.push(`${group}/${name}/README.md`);
      if (group === 'packages') files.push(...mdIn(`${group}/${name}/docs`));
    }
  }
  return files.filter((file) => existsSync(join(root, file)));
}

/** The ```ts blocks of one file, with the line of their first code line (1-based). */
function blocks(file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const found = [];
  let open = null;
  lines.forEach((line, i) => {
    if (open === null) {
      const fence = /^(\s*)```(ts|typescript)(\s+.*)?$/.exec(line);
      if (fence) open = { indent: fence[1] ?? '', info: (fence[3] ?? '').trim(), start: i + 2, code: [] };
    } else if (/^\s*```\s*$/.test(line)) {
      if (!open.info.split(/\s+/).includes('nocheck')) found.push(open);
      open = null;
    } else {
      open.code.push(line.startsWith(open.indent) ? line.slice(open.indent.length) : line);
    }
  });
  if (open !== null) throw new Error(`${file}:${open.start - 1}: unclosed code block`);
  return found;
}

/** Workspace packages by name, so the scratch folder can import each one as a user would. */
function workspacePackages() {
  const packages = new Map();
  for (const group of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, group))) {
      const manifest = join(root, group, name, 'package.json');
      if (existsSync(manifest))
        packages.set(JSON.parse(readFileSync(manifest, 'utf8')).name, join(root, group, name));
    }
  }
  return packages;
}

/** Links a bare import into .docs-check/node_modules: a workspace package, or a dependency one of them has. */
function link(specifier, packages) {
  const name = specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : specifier.split('/')[0];
  const target = join(scratch, 'node_modules', name);
  if (existsSync(target)) return true;
  let source = packages.get(name);
  if (source === undefined) {
    for (const dir of [root, ...packages.values()]) {
      if (existsSync(join(dir, 'node_modules', name, 'package.json'))) {
        source = join(dir, 'node_modules', name);
        break;
      }
    }
  }
  if (source === undefined) return false;
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(source, target, 'dir');
  return true;
}

function main() {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const packages = workspacePackages();
  const origin = new Map(); // scratch file name -> { file, start }
  const problems = [];
  for (const file of sources()) {
    blocks(file).forEach((block, i) => {
      const name = `${file.replace(/[/.]/g, '_')}_${i + 1}.ts`;
      const code = block.code.join('\n');
      for (const [, specifier] of code.matchAll(/\bfrom\s+'([^'.][^']*)'/g)) {
        if (!specifier.startsWith('node:') && !link(specifier, packages)) {
          problems.push(
            `${file}:${block.start}: cannot resolve '${specifier}' (not a workspace package or dependency)`,
          );
        }
      }
      // Same line numbers as the block; `export {}` makes every block a module (top-level await, own scope).
      writeFileSync(join(scratch, name), `${code}\nexport {};\n`);
      origin.set(name, { file, start: block.start });
    });
  }
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({
      extends: '../tsconfig.base.json',
      compilerOptions: {
        noEmit: true,
        types: ['node'],
        lib: ['ES2023', 'DOM'],
        declaration: false,
        declarationMap: false,
        sourceMap: false,
      },
      include: ['*.ts'],
    }),
  );
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', join(scratch, 'tsconfig.json'), '--pretty', 'false'],
    {
      cwd: scratch,
      encoding: 'utf8',
    },
  );
  const output = `${result.stdout}${result.stderr}`;
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    const at = /^(?:.*[/\\])?([^/\\(]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
    const from = at ? origin.get(at[1]) : undefined;
    if (at && from) problems.push(`${from.file}:${from.start + Number(at[2]) - 1}:${at[3]}: ${at[4]}`);
    else problems.push(`  ${line}`); // continuation lines of a message, or tsc's own errors
  }
  if (result.status !== 0 && problems.length === 0) problems.push(`tsc exited with ${result.status}`);
  const count = origin.size;
  if (!keep) rmSync(scratch, { recursive: true, force: true });
  if (problems.length > 0) {
    console.error(`✖ documentation code blocks: ${count} checked, errors:\n${problems.join('\n')}`);
    if (keep) console.error(`  scratch files kept in ${relative(process.cwd(), scratch) || '.'}`);
    return 1;
  }
  console.log(`✔ documentation code blocks: ${count} TypeScript blocks compile (strict, NodeNext)`);
  return 0;
}

process.exit(main());
