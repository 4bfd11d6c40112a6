/**
 * What the bench reads from /proc (Linux only): CPU time of a process or of the PostgreSQL
 * server's process tree, a process's resident memory, and the machine and its load.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Clock ticks per second of the utime/stime fields (CLK_TCK, 100 on Linux unless configured). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  ppid: number;
  /** utime + stime of the process (all its threads), in ms. */
  ownMs: number;
  /** cutime + cstime: children it has waited for, in ms. */
  reapedMs: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  const tick = (index: number) => (Number(fields[index - 3]) * 1000) / TICKS_PER_SECOND;
  return { ppid: Number(fields[1]), ownMs: tick(14) + tick(15), reapedMs: tick(16) + tick(17) };
}

/** CPU time (user + system, all threads) a live process has used so far, in ms. */
export function processCpuMs(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return stat.ownMs;
}

/**
 * CPU time used so far by a PostgreSQL server: the postmaster, every live child (backends,
 * checkpointer, WAL writer, autovacuum…) and the children that have exited since it started
 * (which the kernel adds to the postmaster's cutime/cstime when it reaps them), in ms.
 */
export function postgresCpuMs(postmasterPid: number): number {
  const postmaster = readStat(postmasterPid);
  if (!postmaster) throw new Error(`the PostgreSQL postmaster (pid ${postmasterPid}) is gone`);
  let total = postmaster.ownMs + postmaster.reapedMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === postmasterPid) total += stat.ownMs;
  }
  return total;
}

/** The postmaster's pid: the first line of postmaster.pid in the cluster's data directory. */
export function postmasterPid(pgDataDir: string): number {
  const pid = Number(readFileSync(join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no postmaster pid in ${pgDataDir}/postmaster.pid`);
  return pid;
}

/** Resident set size of a process (VmRSS), in MiB; undefined once it has exited. */
export function rssMib(pid: number): number | undefined {
  try {
    const line = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line ? Number(line[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the largest value seen. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let max = rssMib(pid) ?? 0;
  const timer = setInterval(() => {
    max = Math.max(max, rssMib(pid) ?? 0);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, rssMib(pid) ?? 0);
    },
  };
}

export interface Machine {
  nproc: number;
  cpu_model: string;
  memory_gib: number;
  kernel: string;
  node: string;
}

export function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const memTotal = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu_model: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memory_gib: Math.round((memTotal / 2 ** 20) * 10) / 10,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
  };
}

/** The 1, 5 and 15-minute load averages. */
export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [one!, five!, fifteen!];
}
