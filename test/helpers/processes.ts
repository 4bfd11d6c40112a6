import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every wait in these tests is bounded: a hang fails the test instead of blocking the run. */
export const WAIT_MS = 60_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned process whose output is kept for assertions and error messages. */
export class Child {
  readonly stdoutLines: string[] = [];
  stderr = '';
  exit: Exit | undefined;
  private readonly exited: Promise<Exit>;
  private partial = '';

  constructor(readonly process: ChildProcess, readonly label: string, readonly detached: boolean) {
    process.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop()!;
      this.stdoutLines.push(...lines);
    });
    process.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      process.once('close', (code, signal) => {
        if (this.partial) this.stdoutLines.push(this.partial);
        this.partial = '';
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  get stdout(): string {
    return this.stdoutLines.map((line) => line + '\n').join('') + this.partial;
  }

  /** Signals the process itself. */
  kill(signal: NodeJS.Signals): void {
    if (!this.exit) this.process.kill(signal);
  }

  /** Signals its whole process group (spawned detached: the process and the servers it started). */
  killGroup(signal: NodeJS.Signals): void {
    if (!this.detached) throw new Error(`${this.label} was not spawned detached: it has no process group of its own`);
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is gone
    }
  }

  async waitForExit(timeoutMs = WAIT_MS): Promise<Exit> {
    return waitFor(`${this.label} to exit`, () => this.exit, timeoutMs, () => this.describe());
  }

  /** Polls `check` until it returns a value; fails early if the process exits first. */
  async waitFor<T>(what: string, check: () => T | undefined, timeoutMs = WAIT_MS): Promise<T> {
    return waitFor(
      what,
      () => {
        const value = check();
        if (value !== undefined) return value;
        if (this.exit) throw new Error(`${this.label} exited (${JSON.stringify(this.exit)}) before ${what}\n${this.describe()}`);
        return undefined;
      },
      timeoutMs,
      () => this.describe(),
    );
  }

  describe(): string {
    return `--- stdout of ${this.label}:\n${this.stdout.slice(-4000)}\n--- stderr:\n${this.stderr.slice(-4000)}`;
  }
}

/** Resolves `marginMs` after the moment `at` (a Date or epoch ms), at once if it is long past. */
export function pastMoment(at: Date | number, marginMs = 100): Promise<void> {
  const ms = typeof at === 'number' ? at : at.getTime();
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now()) + marginMs));
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = WAIT_MS,
  detail: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Rejects if `promise` has not settled within `ms`, so a hang becomes a failure. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Environment for a Relance child process: the embedded database of `dataDir`, whatever the test
 * run itself uses (the CI run sets DATABASE_URL), counters in its own memory, and default
 * settings but for budgets no test reaches by accident (a test sets small ones in `extra`).
 */
export function relanceEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'DATABASE_URL', 'TEST_DATABASE_URL', 'RELANCE_SECRET_KEY', 'PORT', 'HOST', 'PUBLIC_URL', 'LOG_LEVEL', 'NODE_TEST_CONTEXT', 'REDIS_URL', 'TEST_REDIS_URL',
  ]) {
    delete env[name];
  }
  return { ...env, ...GENEROUS_BUDGETS, DATA_DIR: dataDir, ...extra };
}

const GENEROUS_BUDGETS = {
  RATE_LIMIT_READS: '1000000000', RATE_LIMIT_WRITES: '1000000000', RATE_LIMIT_TOKEN_PER_CLIENT: '1000000000', RATE_LIMIT_TOKEN_PER_ADDRESS: '1000000000',
};

/** Whether `pid` is a running process (an exited but unreaped one, a zombie, is not). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return existsSync('/proc/self') ? false : true;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** PIDs of the running PostgreSQL postmasters whose data directory is `pgDir`. */
export function postmastersOf(pgDir: string): number[] {
  if (existsSync('/proc/self/cmdline')) {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let args: string[];
      try {
        args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      } catch {
        continue;
      }
      const flag = args.indexOf('-D');
      if (args[0]?.endsWith('postgres') && flag > 0 && args[flag + 1] === pgDir && isRunning(Number(entry))) pids.push(Number(entry));
    }
    // A child the postmaster has just forked shows its parent's command line until it sets its
    // own title: only a process whose parent is not one of them is a postmaster.
    const candidates = new Set(pids);
    return pids.filter((pid) => !candidates.has(parentOf(pid)));
  }
  const table = execFileSync('ps', ['-axo', 'pid=,stat=,command='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && !m[2]!.startsWith('Z') && `${m[3]} `.includes(` -D ${pgDir} `))
    .map((m) => Number(m[1]));
}

export interface Sandbox {
  /** A fresh, empty DATA_DIR, removed (with any PostgreSQL still running in it) after the file's tests. */
  dataDir(): Promise<string>;
  spawn(command: string, args: string[], options?: { env?: NodeJS.ProcessEnv; detached?: boolean; label?: string }): Child;
  /** `node --import tsx <args>` from the repository root. */
  node(args: string[], env: NodeJS.ProcessEnv, options?: { detached?: boolean; label?: string }): Child;
}

/**
 * Tracks the processes and data directories a test file creates and, after its tests, even
 * failed ones, kills every process still running and every PostgreSQL left in those directories.
 */
export function sandbox(): Sandbox {
  const children: Child[] = [];
  const dirs: string[] = [];

  after(async () => {
    for (const child of children) {
      if (child.detached) child.killGroup('SIGKILL');
      else child.kill('SIGKILL');
    }
    await Promise.all(children.map((child) => child.waitForExit(10_000).catch(() => undefined)));
    for (const dir of dirs) {
      const pgDir = join(dir, 'pg');
      for (const pid of postmastersOf(pgDir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await waitFor(`the PostgreSQL of ${pgDir} to stop`, () => (postmastersOf(pgDir).length === 0 ? true : undefined), 10_000).catch(
        () => undefined,
      );
      await rm(dir, { recursive: true, force: true });
    }
  });

  const spawnChild: Sandbox['spawn'] = (command, args, options = {}) => {
    const detached = options.detached ?? false;
    const child = new Child(
      spawn(command, args, { cwd: REPO_ROOT, env: options.env ?? process.env, detached, stdio: ['ignore', 'pipe', 'pipe'] }),
      options.label ?? [command, ...args].join(' ').slice(0, 120),
      detached,
    );
    children.push(child);
    return child;
  };

  return {
    dataDir: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'relance-process-test-'));
      dirs.push(dir);
      return dir;
    },
    spawn: spawnChild,
    node: (args, env, options = {}) =>
      spawnChild(process.execPath, ['--import', 'tsx', ...args], { env, detached: options.detached, label: options.label ?? args.join(' ') }),
  };
}

/**
 * Another process holding the embedded server of `dir` (test/fixtures/hold-embedded.ts), as a
 * running `relance serve` would; returns once the server answers.
 */
export async function holdEmbedded(box: Sandbox, dir: string): Promise<{ child: Child; url: string }> {
  const child = box.node(['test/fixtures/hold-embedded.ts', dir], process.env, { label: 'hold-embedded' });
  const ready = await child.waitFor('the child to start its embedded PostgreSQL', () => {
    const line = child.stdoutLines.find((l) => l.startsWith('{'));
    return line ? (JSON.parse(line) as { url: string; pid: number }) : undefined;
  });
  return { child, url: ready.url };
}
