/**
 * `npm test`: runs every test/**\/*.test.ts file against a real, fresh PostgreSQL database:
 * a throw-away embedded server by default, or a new database on the server in DATABASE_URL.
 * The Redis tests get REDIS_URL's server, or a throw-away redis-server started from PATH.
 * Fails when a test fails or when no test ran at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { startEmbedded } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .filter((file) => process.argv.length <= 2 || process.argv.slice(2).some((arg) => file.includes(arg)))
    .sort();
}

async function provisionDatabase(): Promise<{ url: string; label: string; cleanup: () => Promise<void> }> {
  const external = process.env.DATABASE_URL;
  if (!external) {
    const dir = await mkdtemp(join(tmpdir(), 'relance-test-'));
    const server = await startEmbedded(dir, pino({ level: 'warn' }));
    return {
      url: server.url,
      label: 'embedded PostgreSQL',
      cleanup: async () => {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `relance_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: external });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(external);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    label: `DATABASE_URL (database ${name})`,
    cleanup: async () => {
      const client = new pg.Client({ connectionString: external });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

interface ProvisionedRedis {
  /** Passed to the test files as TEST_REDIS_URL; absent when there is no Redis (its tests then fail, saying why). */
  url: string | undefined;
  label: string;
  cleanup: () => Promise<void>;
}

/** REDIS_URL if set, else a throw-away redis-server from PATH on a free loopback port, keeping nothing on disk. */
async function provisionRedis(): Promise<ProvisionedRedis> {
  const external = process.env.REDIS_URL;
  if (external) return { url: external, label: 'REDIS_URL', cleanup: async () => {} };
  const binary = await onPath('redis-server');
  if (!binary) return { url: undefined, label: 'none: redis-server is not installed, so the Redis tests will fail', cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'relance-test-redis-'));
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const cleanup = async () => {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPong(port, child);
  } catch (error) {
    await cleanup();
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return { url: `redis://127.0.0.1:${port}`, label: `redis-server on 127.0.0.1:${port}`, cleanup };
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the server answers PING; fails if it exits first or is not up within 20 s. */
async function waitForPong(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode})`);
    if (await pongs(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not answer PING within 20 s');
}

function pongs(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<number> {
  const files = await testFiles('test');
  if (files.length === 0) {
    console.error('no test files found');
    return 1;
  }
  const database = await provisionDatabase();
  let redis: ProvisionedRedis | undefined;
  try {
    const pool = createPool(database.url, 2);
    const { rows } = await pool.query<{ server_version: string }>('SHOW server_version');
    await migrate(pool);
    await pool.end();
    redis = await provisionRedis();
    console.log(`Testing on ${database.label}, PostgreSQL ${rows[0]!.server_version}: ${files.length} files`);
    console.log(`Redis for the tests: ${redis.label}`);
    const redisUrl = redis.url;

    const tapFile = join(tmpdir(), `relance-tap-${process.pid}.txt`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import', 'tsx',
          '--test', '--test-concurrency=3',
          '--test-reporter=spec', '--test-reporter-destination=stdout',
          '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
          ...files,
        ],
        { stdio: 'inherit', env: { ...process.env, TEST_DATABASE_URL: database.url, ...(redisUrl && { TEST_REDIS_URL: redisUrl }) } },
      );
      child.on('close', (status) => resolve(status ?? 1));
    });
    const tap = await readFile(tapFile, 'utf8').catch(() => '');
    await rm(tapFile, { force: true });
    const count = (label: string) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
    const passed = count('pass');
    const failed = count('fail');
    console.log(`\n${passed} passed, ${failed} failed`);
    if (passed === 0) {
      console.error('no test ran');
      return 1;
    }
    return code;
  } finally {
    await redis?.cleanup();
    await database.cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
