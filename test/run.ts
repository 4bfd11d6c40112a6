/**
 * `npm test`: runs every test/**\/*.test.ts file against a real, fresh PostgreSQL database:
 * a throw-away embedded server by default, or a new database on the server in DATABASE_URL.
 * Fails when a test fails or when no test ran at all.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

async function main(): Promise<number> {
  const files = await testFiles('test');
  if (files.length === 0) {
    console.error('no test files found');
    return 1;
  }
  const database = await provisionDatabase();
  try {
    const pool = createPool(database.url, 2);
    const { rows } = await pool.query<{ server_version: string }>('SHOW server_version');
    await migrate(pool);
    await pool.end();
    console.log(`Testing on ${database.label}, PostgreSQL ${rows[0]!.server_version}: ${files.length} files`);

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
        { stdio: 'inherit', env: { ...process.env, TEST_DATABASE_URL: database.url } },
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
