/**
 * The purge runs on its schedule in the processes an operator starts: `relance serve` (its
 * in-process worker, the default) and `relance worker` (jobs only), each on a database of its
 * own here, with a schedule of every minute. Both stop cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { freshDatabase } from '../helpers/database.js';
import { relanceEnv, sandbox, waitFor } from '../helpers/processes.js';

const box = sandbox();
const SECRET_KEY = randomBytes(32).toString('hex');

/** A migrated database holding one expired idempotency key. */
async function databaseWithExpiredKey(): Promise<string> {
  const url = await freshDatabase();
  const pool = createPool(url, 1);
  try {
    await migrate(pool);
    const { rows } = await pool.query<{ id: number }>("INSERT INTO companies (name) VALUES ('Jobs') RETURNING id");
    await pool.query(
      "INSERT INTO idempotency_keys (company_id, key, request_hash, created_at) VALUES ($1, 'old', '\\x00', now() - interval '25 hours')",
      [rows[0]!.id],
    );
  } finally {
    await pool.end();
  }
  return url;
}

async function purged(url: string): Promise<true | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const keys = await client.query('SELECT 1 FROM idempotency_keys');
    const runs = await client.query("SELECT 1 FROM maintenance_runs WHERE task = 'purge_idempotency_keys'");
    return keys.rowCount === 0 && runs.rowCount! > 0 ? true : undefined;
  } finally {
    await client.end();
  }
}

describe('the purge runs on its schedule', { concurrency: true }, () => {
  for (const command of ['serve', 'worker']) {
    test(`under relance ${command}`, { timeout: 240_000 }, async () => {
      const url = await databaseWithExpiredKey();
      const env = relanceEnv(await box.dataDir(), {
        DATABASE_URL: url, RELANCE_SECRET_KEY: SECRET_KEY, PURGE_SCHEDULE: '* * * * *', PORT: '0', LOG_LEVEL: 'info',
      });
      const child = box.node(['src/cli/main.ts', command], env, { label: `relance ${command}` });
      // A schedule of every minute fires within 60 s of the worker's start, which on a loaded
      // machine may itself take a while (the embedded server, migrations, tsx).
      await waitFor('the expired key to be purged on schedule', () => purged(url), 150_000, () => child.describe());
      child.kill('SIGTERM');
      assert.deepEqual(await child.waitForExit(30_000), { code: 0, signal: null }, child.describe());
    });
  }
});
