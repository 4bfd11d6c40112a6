import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Machine } from './proc.js';

/** One measured run of one target in one round. */
export interface Measurement {
  round: number;
  /** Position of the target in its round (0 first). */
  position: number;
  target: string;
  requests: number;
  seconds: number;
  requests_per_second: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
  /** CPU of every PostgreSQL process during the run, divided by the requests answered. */
  pg_cpu_ms_per_request: number;
  /** CPU of the server process under test, likewise. */
  server_cpu_ms_per_request: number;
  load_generator_cpu_ms_per_request: number;
  /** Largest VmRSS of the server process sampled during the run. */
  server_rss_max_mib: number;
  load_average_1m: number;
  warmup_requests: number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface TargetSummary {
  target: string;
  requests_per_second: number;
  p50_ms: number;
  p99_ms: number;
  pg_cpu_ms_per_request: number;
  server_cpu_ms_per_request: number;
  server_rss_max_mib: number;
  /** Relance's req/s divided by this target's, round by round (absent for Relance itself). */
  relance_ratio?: Spread & { per_round: number[] };
}

export interface ScenarioResult {
  name: string;
  connections: number;
  /** The order the targets ran in, round by round. */
  rounds: string[][];
  measurements: Measurement[];
  summary: TargetSummary[];
}

export interface Report {
  date: string;
  mode: 'quick' | 'full';
  machine: Machine & { postgresql: string };
  load_average_start: number[];
  load_average_end: number[];
  settings: Record<string, unknown>;
  scenarios: ScenarioResult[];
  relance_rss_max_mib: number;
  duration_seconds: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function spread(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Per target: medians over the rounds, and the per-round ratios of Relance to it. */
export function summarize(measurements: Measurement[], targets: string[], relance: string): TargetSummary[] {
  const of = (target: string) => measurements.filter((m) => m.target === target).sort((a, b) => a.round - b.round);
  const relanceRuns = of(relance);
  return targets.map((target) => {
    const runs = of(target);
    const med = (pick: (m: Measurement) => number) => median(runs.map(pick));
    const summary: TargetSummary = {
      target,
      requests_per_second: med((m) => m.requests_per_second),
      p50_ms: med((m) => m.p50_ms),
      p99_ms: med((m) => m.p99_ms),
      pg_cpu_ms_per_request: med((m) => m.pg_cpu_ms_per_request),
      server_cpu_ms_per_request: med((m) => m.server_cpu_ms_per_request),
      server_rss_max_mib: Math.max(...runs.map((m) => m.server_rss_max_mib)),
    };
    if (target !== relance) {
      const perRound = runs.map((m, i) => relanceRuns[i]!.requests_per_second / m.requests_per_second);
      summary.relance_ratio = { ...spread(perRound), per_round: perRound };
    }
    return summary;
  });
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const latency = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const cpu = (n: number) => n.toFixed(3);
const ratio = (r: Spread | undefined) => (r ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '');

const HEADER = ['scenario', 'conns', 'target', 'req/s', 'PG CPU ms/req', 'server CPU ms/req', 'p50 ms', 'p99 ms', 'max RSS MiB', 'Relance ÷ this (min–max)'];
const RIGHT = [false, true, false, true, true, true, true, true, true, true];

function rows(report: Report): string[][] {
  return report.scenarios.flatMap((s) =>
    s.summary.map((t, i) => [
      i === 0 ? s.name : '',
      i === 0 ? String(s.connections) : '',
      t.target,
      int(t.requests_per_second),
      cpu(t.pg_cpu_ms_per_request),
      cpu(t.server_cpu_ms_per_request),
      latency(t.p50_ms),
      latency(t.p99_ms),
      int(t.server_rss_max_mib),
      ratio(t.relance_ratio),
    ]),
  );
}

function footer(report: Report): string[] {
  const m = report.machine;
  const s = report.settings;
  const load = (l: number[]) => l.map((n) => n.toFixed(2)).join(' / ');
  return [
    `${m.nproc} × ${m.cpu_model}, ${m.memory_gib} GiB RAM, Linux ${m.kernel}, Node ${m.node}, embedded PostgreSQL ${m.postgresql}.`,
    `Load average (1/5/15 min): ${load(report.load_average_start)} at the start, ${load(report.load_average_end)} at the end.`,
    `${report.mode} mode: ${int(Number(s.rows))} seeded followups over ${int(Number(s.debts))} debts; ${s.rounds} rotated rounds per scenario, ` +
      `each target ${s.warmup_seconds} s of warm-up then ${s.seconds} s measured; medians over the rounds; ` +
      `Relance's largest RSS under load ${int(report.relance_rss_max_mib)} MiB; run took ${int(report.duration_seconds)} s.`,
  ];
}

/** A plain-text table for the terminal. */
export function text(report: Report): string {
  const table = [HEADER, ...rows(report)];
  const widths = HEADER.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (RIGHT[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows(report).map(line), '', ...footer(report)].join('\n');
}

/** The same as a Markdown table, for the README's benchmark section. */
export function markdown(report: Report): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [
    line(HEADER),
    `|${RIGHT.map((right) => (right ? '---:' : '---')).join('|')}|`,
    ...rows(report).map(line),
    '',
    ...footer(report).map((l) => `${l}  `),
  ].join('\n') + '\n';
}

export async function writeResults(jsonFile: string, markdownFile: string, report: Report): Promise<void> {
  await mkdir(dirname(jsonFile), { recursive: true });
  await writeFile(jsonFile, JSON.stringify(report, null, 2) + '\n');
  await writeFile(markdownFile, markdown(report));
}
