import assert from 'node:assert/strict';
import { test } from 'node:test';
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
  throw new Error('the create never waited on the debt row');
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
