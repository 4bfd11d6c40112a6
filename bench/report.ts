import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { Measurement } from './load.js';

export interface ScenarioResult {
  name: string;
  relance: Measurement;
  floors: { constant: Measurement; sql: Measurement };
  /** Relance's req/s divided by each floor's. */
  ratios: { constant: number; sql: number };
}

export interface Report {
  date: string;
  machine: { cpus: number; cpu_model: string; memory_gib: number; node: string; postgresql: string };
  settings: {
    connections: number;
    seconds: number;
    warmup_seconds: number;
    seeded_followups: number;
    /** 1-minute load average when the run started: above 1, something else was using the CPUs. */
    load_average_before: number;
    load_generator: string;
  };
  scenarios: ScenarioResult[];
}

export function machine(postgresql: string): Report['machine'] {
  return {
    cpus: availableParallelism(),
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgresql,
  };
}

export function ratio(relance: Measurement, floor: Measurement): number {
  return floor.requests_per_second > 0 ? Math.round((relance.requests_per_second / floor.requests_per_second) * 100) / 100 : 0;
}

const count = (n: number) => n.toLocaleString('en-US');
// autocannon records latencies in whole milliseconds.
const ms = (n: number) => String(Math.round(n));

/** The results as a markdown table, with the machine and settings underneath. */
export function markdown(report: Report): string {
  const lines = [
    '| scenario | server | req/s | p50 (ms) | p99 (ms) | Relance req/s ÷ this |',
    '|---|---|---:|---:|---:|---:|',
  ];
  const row = (scenario: string, server: string, m: Measurement, ratioText: string) =>
    lines.push(`| ${scenario} | ${server} | ${count(m.requests_per_second)} | ${ms(m.p50_ms)} | ${ms(m.p99_ms)} | ${ratioText} |`);
  for (const s of report.scenarios) {
    row(s.name, 'Relance', s.relance, '');
    row('', 'floor: constant body', s.floors.constant, `${s.ratios.constant.toFixed(2)}×`);
    row('', 'floor: same SQL', s.floors.sql, `${s.ratios.sql.toFixed(2)}×`);
  }
  const { machine: m, settings } = report;
  lines.push(
    '',
    `${m.cpus} × ${m.cpu_model}, ${m.memory_gib} GiB RAM, Node ${m.node}, embedded PostgreSQL ${m.postgresql}; ` +
      `${settings.connections} connections, ${settings.seconds} s per line after ${settings.warmup_seconds} s of warm-up, ` +
      `${count(settings.seeded_followups)} seeded followups; ${settings.load_generator}.`,
  );
  if (settings.load_average_before > 1) {
    lines.push(`The machine was busy (load average ${settings.load_average_before} at the start): the numbers are low and noisy.`);
  }
  return lines.join('\n');
}

export async function writeJson(file: string, report: Report): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
}
