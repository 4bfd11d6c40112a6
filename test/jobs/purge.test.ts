/**
 * The job runner (graphile-worker) and its first real job, the idempotency-key purge: a job
 * enqueued in a transaction exists if and only if the transaction commits; a job added while no
 * worker runs is done once one starts, also after a restart; the purge deletes only expired keys
 * and never runs twice at once, even with two workers taking jobs side by side.
 *
 * On a database of its own: a worker of another test file (a `relance serve` it starts and
 * kills) would otherwise take one of these jobs and leave it locked for hours.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { insertCompany } from '../../src/companies/repository.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, transaction } from '../../src/db/pool.js';
import { deriveKeys } from '../../src/security/keys.js';
import { enqueue } from '../../src/jobs/queue.js';
import type { Worker } from '../../src/jobs/worker.js';
import { freshDatabase } from '../helpers/database.js';
import { AllowList } from '../../src/net/allow-list.js';
import { waitFor } from '../helpers/processes.js';
import { testStore } from '../helpers/storage.js';
import { webhookDeps } from '../helpers/webhooks.js';
import { ownWorker } from '../helpers/worker.js';

const url = await freshDatabase();
const ctx = { pool: createPool(url, 4) };
after(() => ctx.pool.end());
await migrate(ctx.pool);
const workerKeys = deriveKeys(randomBytes(32));
const ctxStorage = await testStore(workerKeys);
const log = pino({ level: 'silent' });
const SETTINGS = { concurrency: 2, purgeSchedule: '*/10 * * * *' };

/** A worker on a pool of its own, as in a separate process; stopped after the file's tests. */
async function worker(): Promise<Worker> {
  const { stop } = await ownWorker(url, 4, log, SETTINGS, {
    storage: ctxStorage, maxBytes: 1024, allow: AllowList.EMPTY, timeoutMs: 1_000, webhooks: webhookDeps(workerKeys, ctxStorage),
  });
  return { stop };
}

/** Idempotency keys of a fresh company, `age` old. */
async function keys(count: number, age: string): Promise<{ companyId: number; prefix: string }> {
  const company = await insertCompany(`Company ${randomBytes(3).toString('hex')}`, ctx.pool);
  const prefix = randomBytes(4).toString('hex');
  await ctx.pool.query(
    `INSERT INTO idempotency_keys (company_id, key, request_hash, created_at)
     SELECT $1, $2 || '-' || n, '\\x00'::bytea, now() - $3::interval FROM generate_series(1, $4) AS n`,
    [company.id, prefix, age, count],
  );
  return { companyId: company.id, prefix };
}

async function remaining({ companyId }: { companyId: number }): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys WHERE company_id = $1', [companyId]);
  return rows[0]!.n;
}

async function pendingJobs(task: string, key?: string): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = $1 AND ($2::text IS NULL OR key = $2)',
    [task, key ?? null],
  );
  return rows[0]!.n;
}

/** Purge jobs never tried yet, or running now. */
async function untriedOrRunning(): Promise<number> {
  const { rows } = await ctx.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM graphile_worker.jobs
      WHERE task_identifier = 'purge_idempotency_keys' AND (attempts = 0 OR locked_at IS NOT NULL)`,
  );
  return rows[0]!.n;
}

/** The purge jobs still in graphile-worker's table: what a timed-out wait shows to explain itself. */
async function purgeJobs(): Promise<string> {
  const { rows } = await ctx.pool.query(
    `SELECT id, attempts, max_attempts, run_at, locked_at, locked_by, last_error
       FROM graphile_worker.jobs WHERE task_identifier = 'purge_idempotency_keys' ORDER BY id`,
  );
  return JSON.stringify(rows, null, 1);
}

async function runsSince(since: Date): Promise<Array<{ started_at: Date; finished_at: Date; rows_affected: string }>> {
  const { rows } = await ctx.pool.query<{ started_at: Date; finished_at: Date; rows_affected: string }>(
    "SELECT started_at, finished_at, rows_affected FROM maintenance_runs WHERE task = 'purge_idempotency_keys' AND started_at >= $1 ORDER BY started_at",
    [since],
  );
  return rows;
}

/** Waits for `check`; on timeout, the error lists the purge jobs left and why they failed. */
async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  let jobs = '';
  await waitFor(what, async () => {
    if (await check()) return true;
    jobs = await purgeJobs();
    return undefined;
  }, ms, () => `purge jobs left: ${jobs}`);
}

describe('jobs', { concurrency: false }, () => {
  test('a job enqueued in a transaction exists if and only if the transaction commits', async () => {
    const key = `outbox-${randomBytes(4).toString('hex')}`;
    const later = new Date(Date.now() + 3_600_000);
    await assert.rejects(transaction(ctx.pool, async (tx) => {
      await enqueue(tx, 'purge_idempotency_keys', {}, { jobKey: `${key}-rolled-back`, runAt: later });
      throw new Error('the change fails');
    }));
    assert.equal(await pendingJobs('purge_idempotency_keys', `${key}-rolled-back`), 0, 'no job for a change that rolled back');
    await transaction(ctx.pool, (tx) => enqueue(tx, 'purge_idempotency_keys', {}, { jobKey: `${key}-committed`, runAt: later }));
    assert.equal(await pendingJobs('purge_idempotency_keys', `${key}-committed`), 1, 'the job of a committed change');
    await ctx.pool.query('SELECT graphile_worker.remove_job($1)', [`${key}-committed`]);
  });

  test('a purge enqueued while no worker runs is done once one starts, and again after a restart; fresh keys stay', { timeout: 120_000 }, async () => {
    const since = new Date();
    const expired = await keys(12, '25 hours');
    const fresh = await keys(3, '23 hours');
    await enqueue(ctx.pool, 'purge_idempotency_keys');
    const first = await worker();
    await until('the expired keys to be purged', async () => (await remaining(expired)) === 0);
    assert.equal(await remaining(fresh), 3, 'keys younger than 24 hours are kept');
    await first.stop();

    const more = await keys(5, '2 days');
    await enqueue(ctx.pool, 'purge_idempotency_keys');
    await worker();
    await until('the purge after a restart', async () => (await remaining(more)) === 0);
    // A run records itself after its last delete: the job is gone from the queue once it has.
    await until('the purge job to be done', async () => (await pendingJobs('purge_idempotency_keys')) === 0);
    assert.ok((await runsSince(since)).length >= 2, 'each run is recorded');
    assert.equal(await remaining(fresh), 3);
  });

  test('never two purges at once, with two workers taking jobs side by side', { timeout: 120_000 }, async () => {
    const since = new Date();
    const expired = await keys(40_000, '3 days');
    await worker();
    await worker();
    // Six jobs at once for four slots over two workers: without the lock, runs would overlap.
    await Promise.all(Array.from({ length: 6 }, () => enqueue(ctx.pool, 'purge_idempotency_keys')));
    // Every job has run once and none is running. A job whose run failed (a connection refused by
    // a busy server) waits for its retry with exponential backoff, up to minutes: not waited for.
    await until('every purge job to have run', async () => (await remaining(expired)) === 0 && (await untriedOrRunning()) === 0, 60_000);
    const rows = await runsSince(since);
    assert.ok(rows.length >= 1);
    for (let i = 1; i < rows.length; i++) {
      assert.ok(rows[i]!.started_at >= rows[i - 1]!.finished_at, `run ${i} started before run ${i - 1} finished: ${JSON.stringify(rows)}`);
    }
    assert.ok(rows.reduce((n, r) => n + Number(r.rows_affected), 0) >= 40_000, 'the runs together deleted every expired key, once');
  });
});
