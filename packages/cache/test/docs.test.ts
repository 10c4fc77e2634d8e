// Every TypeScript block of this package's README and guide compiles as written: a new user copies them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const sources = ['README.md', ...readdirSync(join(root, 'docs')).map((name) => join('docs', name))];

function blocks(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
}

describe('documentation code blocks', () => {
  it('every ```ts block of the README and docs/ type-checks under strict settings', () => {
    const dir = join(root, '.docs-check');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const files: string[] = [];
    for (const source of sources) {
      blocks(source).forEach((code, i) => {
        const name = `${source.replace(/[/.]/g, '_')}_${i + 1}.ts`;
        writeFileSync(join(dir, name), `${code}\nexport {};\n`);
        files.push(name);
      });
    }
    expect(files.length).toBeGreaterThan(3);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.base.json',
        compilerOptions: { noEmit: true, types: ['node'], lib: ['ES2023', 'DOM'] },
        include: ['*.ts'],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
