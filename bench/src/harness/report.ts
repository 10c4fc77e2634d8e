import type { TimingOptions } from './contender-run.js';
import type { MachineInfo } from './environment.js';
import type { CaseResult } from './run-case.js';
import type { Suite } from './types.js';

/** Everything a suite's RESULTS.md section shows. */
export interface SuiteReport {
  readonly suite: Suite;
  readonly date: Date;
  readonly machine: MachineInfo;
  /** e.g. "Redis 7.0.15 at 127.0.0.1:16379", or "not used". */
  readonly redis: string;
  readonly options: TimingOptions;
  readonly results: readonly CaseResult[];
  /** Set when the whole suite could not run (no Redis, say). */
  readonly skipped?: string;
  /** Markdown blocks of the suite's {@link Suite.extras}, printed after the table. */
  readonly extras?: readonly string[];
}

/** 3 significant digits with k/M suffixes: 17.7M, 54.1k, 850. */
export function formatRate(opsPerSec: number): string {
  if (!Number.isFinite(opsPerSec)) return '–';
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toPrecision(3)}M`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toPrecision(3)}k`;
  return opsPerSec.toPrecision(3);
}

/** A duration in ns as ns, µs or ms with 3 significant digits. */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return '–';
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toPrecision(3)} µs`;
  return `${ns.toPrecision(3)} ns`;
}

function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined) return '–';
  return ratio >= 0.01 ? ratio.toFixed(2) : ratio.toPrecision(2);
}

function formatSpread(spread: number): string {
  return Number.isFinite(spread) ? `±${(spread * 100).toFixed(0)}%` : '–';
}

/** The one-line "when and where" of a section. */
export function describeRun(report: SuiteReport): string {
  const { machine, options } = report;
  return [
    `Run ${report.date.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB`,
    `${machine.os}`,
    `Node ${machine.node} (V8 ${machine.v8})`,
    `Redis: ${report.redis}`,
    machine.load > machine.cores
      ? `load average ${machine.load.toFixed(2)} at start, above the core count: other processes competed, figures are noisy`
      : `load average ${machine.load.toFixed(2)} at start`,
    `${options.rounds} rounds × ${options.roundMs} ms per contender after ${options.warmupMs} ms warm-up, interleaved`,
  ].join(' · ');
}

function table(results: readonly CaseResult[]): string[] {
  const lines = [
    '| case | contender | ops/s (median) | rounds | p99 latency | p99 over | ops/s ÷ reference |',
    '|---|---|--:|--:|--:|---|--:|',
  ];
  for (const result of results) {
    result.contenders.forEach((c, index) => {
      const name = c.role === 'ours' ? `**${c.name}** (ours)` : `${c.name} (${c.role})`;
      const ratio = c.role === 'ours' ? `**${formatRatio(c.ratio)}**` : formatRatio(c.ratio);
      const cells = c.problem
        ? [index === 0 ? result.label : '', name, c.problem, '', '', '', '']
        : [
            index === 0 ? result.label : '',
            name,
            formatRate(c.opsPerSec),
            formatSpread(c.spread),
            formatDuration(c.p99Ns),
            c.latencyBasis,
            ratio,
          ];
      lines.push(`| ${cells.join(' | ')} |`);
    });
  }
  return lines;
}

/** The section body (without the markers RESULTS.md wraps it in). */
export function renderSection(report: SuiteReport): string {
  const { suite } = report;
  const lines = [`## ${suite.id}: ${suite.title}`, '', `_${describeRun(report)}_`, '', suite.description, ''];
  if (report.skipped !== undefined) {
    lines.push(`**Skipped:** ${report.skipped}`);
    return lines.join('\n');
  }
  lines.push(...table(report.results), '');

  const targets = report.results.flatMap((r) => r.targets.map((t) => ({ ...t, label: r.label })));
  if (targets.length > 0) {
    lines.push('Targets (reported, not asserted):', '');
    for (const t of targets) {
      const verdict = t.ratio === undefined ? 'not measured' : t.met ? 'met' : 'NOT met';
      lines.push(
        `- ${t.label}: ${t.text}, i.e. ${t.contender} ops/s ÷ ${t.versus} ops/s ≥ ${t.minRatio}: ` +
          `${formatRatio(t.ratio)}, **${verdict}**`,
      );
    }
    lines.push('');
  }

  const notes = new Map<string, string>();
  for (const result of report.results) {
    for (const c of result.contenders) if (c.note !== undefined) notes.set(c.name, c.note);
  }
  if (notes.size > 0) {
    lines.push('Contenders:', '');
    for (const [name, note] of notes) lines.push(`- ${name}: ${note}`);
    lines.push('');
  }
  for (const extra of report.extras ?? []) lines.push(extra, '');
  return lines.join('\n').trimEnd();
}
