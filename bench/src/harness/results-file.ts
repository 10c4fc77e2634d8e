import { readFile, writeFile } from 'node:fs/promises';

const HEADER = `# Benchmark results

Written by \`pnpm --filter @cache/bench bench [filter...]\` (see README.md for the method). Each section comes
from its own run, with its own date and machine line: running a subset of suites replaces only their sections.

How to read a row: **ops/s ÷ reference** is the contender's median ops/s divided by the reference's, measured
in the same process, interleaved round by round. Higher is faster: 1.00 is on par, 0.50 is half the throughput
(each op costs twice as long), 2.00 is twice the throughput. "rounds" is half the range of the per-round ops/s
around the median: a wide one means a noisy machine. Latencies from batched cases are per-op means of a batch,
so their p99 is over batches, not over single operations.
`;

const startMarker = (id: string) => `<!-- suite:${id} -->`;
const endMarker = (id: string) => `<!-- /suite:${id} -->`;
const SECTION = /<!-- suite:([\w-]+) -->\n([\s\S]*?)\n<!-- \/suite:\1 -->/g;

/** The sections of an existing RESULTS.md, by suite id, in file order. */
export function parseSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const match of text.matchAll(SECTION)) sections.set(match[1] as string, match[2] as string);
  return sections;
}

/**
 * The new file: the fixed header, then one section per suite in `order`: the fresh body when this run produced
 * one, the old body otherwise. Sections of suites no longer registered are kept at the end.
 */
export function mergeSections(
  previous: ReadonlyMap<string, string>,
  fresh: ReadonlyMap<string, string>,
  order: readonly string[],
): string {
  const ids = [...new Set([...order, ...fresh.keys(), ...previous.keys()])];
  const parts = [HEADER];
  for (const id of ids) {
    const body = fresh.get(id) ?? previous.get(id);
    if (body !== undefined) parts.push(`${startMarker(id)}\n${body}\n${endMarker(id)}\n`);
  }
  return parts.join('\n');
}

/** Replaces the sections in `fresh` in the file at `path`, keeping the others. */
export async function updateResultsFile(
  path: URL,
  fresh: ReadonlyMap<string, string>,
  order: readonly string[],
): Promise<void> {
  let previous = new Map<string, string>();
  try {
    previous = parseSections(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(path, mergeSections(previous, fresh, order));
}
