import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import type { Queryable } from '../../src/db/pool.js';
import { insertFollowup, type FollowupValues } from '../../src/followups/repository.js';
import { followupClient } from '../helpers/followups.js';
import { body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = followupClient(ctx);

/** Waits until some backend is blocked on a lock while running a query containing `fragment`. */
async function waitForLockWait(fragment: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rowCount } = await ctx.pool.query(
      "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
      [`%${fragment}%`],
    );
    if (rowCount) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no query containing "${fragment}" ever waited on a lock`);
}

test('a create racing the deletion of its debt is a 400 on debt_id, not a 500', async () => {
  const tenant = await ctx.tenant();
  const debtId = await tenant.debt();
  const locker = await ctx.pool.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT id FROM debts WHERE id = $1 FOR UPDATE', [ctx.ids.decode('debt', debtId)]);
    // The insert reads the debt, then its foreign-key check waits for the lock held above.
    const pending = api.create(tenant.auth, { debt_id: debtId, summary: 'too late' });
    await waitForLockWait('INSERT INTO followups');
    await locker.query('DELETE FROM debts WHERE id = $1', [ctx.ids.decode('debt', debtId)]);
    await locker.query('COMMIT');
    const response = await pending;
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(Object.keys(body(response).details), ['debt_id']);
  } finally {
    locker.release();
  }
});

test('an update that loses a deadlock on the call_id index is run again: 409, not 500', async () => {
  const tenant = await ctx.tenant();
  const debtId = await tenant.debt();
  const a = await api.created(tenant.auth, { debt_id: debtId, call_id: 'a' });
  const b = await api.created(tenant.auth, { debt_id: debtId, call_id: 'b' });
  const other = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await other.connect();
  try {
    // Another writer frees B's call_id in an open transaction...
    await other.query('BEGIN');
    await other.query("UPDATE followups SET call_id = 'x' WHERE id = $1", [ctx.ids.decode('followup', b.id)]);
    // ...the API gives that call_id to A and waits to see whether B really lets it go...
    const pending = api.update(tenant.auth, a.id, { call_id: 'b' });
    await waitForLockWait('UPDATE followups f');
    // ...and the writer wants A's call_id for B: each waits for the other. PostgreSQL aborts
    // one of them; either way, B keeps "b" and the API's answer is a conflict.
    const cycle = other.query("UPDATE followups SET call_id = 'a' WHERE id = $1", [ctx.ids.decode('followup', b.id)]);
    const outcome = await cycle.then(() => 'ok', (error: { code?: string }) => error.code);
    assert.ok(outcome === '40P01' || outcome === '23505', `the writer ended with ${outcome}`);
    await other.query('ROLLBACK');
    const response = await pending;
    assert.equal(response.statusCode, 409, response.body);
    assert.equal(body(response).message, 'call_id is already used by another followup of this debt');
  } finally {
    await other.end();
  }
  assert.equal(body(await api.get(tenant.auth, a.id)).data.call_id, 'a');
  assert.equal(body(await api.get(tenant.auth, b.id)).data.call_id, 'b');
});

test('a create whose call_id is freed by an update between its insert and its read is created', async () => {
  const tenant = await ctx.tenant();
  const debtId = await tenant.debt();
  const holder = await api.created(tenant.auth, { debt_id: debtId, call_id: 'C' });
  let insertsSeen = 0;
  // The real database, with another request's update landing right after the first insert.
  const db: Queryable = {
    query: (async (query: string | { text: string }, params?: unknown[]) => {
      const result = await ctx.pool.query(query, params);
      const text = typeof query === 'string' ? query : query.text;
      if (text.includes('INSERT INTO followups') && insertsSeen++ === 0) {
        await ctx.pool.query("UPDATE followups SET call_id = 'moved' WHERE id = $1", [ctx.ids.decode('followup', holder.id)]);
      }
      return result;
    }) as Queryable['query'],
  };
  const values: FollowupValues = {
    type: 'call', status: 'in_progress', call_date: null, scheduled_at: null, summary: null, notes: null, call_id: 'C',
    audio_url: null, duration_ms: null, phone_number_used: null, direction: null, disconnection_reason: null, is_retry: false,
  };
  const result = await insertFollowup(tenant.companyId, ctx.ids.decode('debt', debtId)!, values, 'system', db);
  assert.ok(result && 'created' in result, `expected a new followup, got ${JSON.stringify(result)}`);
  assert.equal(result.created.call_id, 'C');
  assert.equal(insertsSeen, 2);
});
