/**
 * The processes under test: Relance as `relance serve` starts it, and the floors (floor.ts),
 * each in a process of its own; plus the Relance CLI, which the bench uses as an operator would.
 */
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Relance and the floors run as plain JavaScript, as `npm start` runs Relance (scripts/build.mjs
// compiles src/ to dist/), so that neither side pays for a TypeScript loader.
const CLI = ['dist/cli/main.js'];
const FLOOR_SOURCE = fileURLToPath(new URL('./floor.ts', import.meta.url));
const FLOOR = fileURLToPath(new URL('./.build/floor.mjs', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface Server {
  name: string;
  origin: string;
  pid: number;
  stop(): Promise<void>;
}

/** Settings Relance reads that the bench must not inherit from the shell that runs it. */
const RELANCE_VARIABLES = /^(PORT|HOST|DATA_DIR|DATABASE_URL|RELANCE_SECRET_KEY|LOG_LEVEL|PUBLIC_URL|WORKER|STORAGE_DRIVER|S3_.*|RATE_LIMIT_.*|CLIENT_CONCURRENCY_LIMIT|MAX_REQUESTS_PER_SOCKET)$/;

export function relanceEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !RELANCE_VARIABLES.test(name)));
  return { ...env, ...extra };
}

/** Compiles what the bench runs: src/ to dist/ (as `npm start` does) and floor.ts beside it. */
export async function buildTargets(): Promise<void> {
  await promisify(execFile)(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
  const { build } = await import('esbuild');
  await build({ entryPoints: [FLOOR_SOURCE], outfile: FLOOR, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
}

/** Runs `relance <args>` and returns the JSON object it prints. */
export async function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Record<string, unknown>> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [...CLI, ...args], { cwd: ROOT, env });
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`relance ${args.join(' ')} failed: ${stderr?.trim() || (error as Error).message}`);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/**
 * `relance serve` (`node dist/cli/main.js serve`, what `npm start` runs) with its
 * JSON log lines, at the default level, appended to `logFile`: Relance pays for its logging as
 * it would in production, and no pipe fills up.
 */
export async function startRelance(env: NodeJS.ProcessEnv, logFile: string): Promise<Server> {
  const port = Number(env.PORT);
  const log = openSync(logFile, 'a');
  // BENCH_PROFILE_DIR: V8's CPU profile of Relance, written there when it stops (NODE_OPTIONS may not carry --cpu-prof).
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${resolvePath(process.env.BENCH_PROFILE_DIR)}`] : [];
  const child = spawn(process.execPath, [...profile, ...CLI, 'serve'], { cwd: ROOT, env, stdio: ['ignore', log, log] });
  closeSync(log);
  const origin = `http://127.0.0.1:${port}`;
  const stop = stopper(child);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new Error(`relance serve ${child.exitCode !== null ? `exited with ${child.exitCode}` : 'was not ready in time'}:\n${tail}`);
    }
    const ready = await fetch(`${origin}/ready`).then((r) => r.ok, () => false);
    if (ready) return { name: 'Relance', origin, pid: child.pid!, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A floor (floor.ts) of `kind`, in its own process; resolves once it listens. */
export function startFloor(name: string, kind: string, env: Record<string, string>): Promise<Server> {
  const child = fork(FLOOR, [kind], { execArgv: [], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stop = stopper(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => void stop().then(() => reject(new Error(`floor ${name} did not start in time`))), READY_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`floor ${name} exited with ${code}`)));
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      resolve({ name, origin: `http://127.0.0.1:${message.port}`, pid: child.pid!, stop });
    });
  });
}
