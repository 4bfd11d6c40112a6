import assert from 'node:assert/strict';
import { test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { API, body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = followupClient(ctx);

/** Real counts and kept counters of one company, by "status/type", zeros left out. */
async function countsOf(companyId: number) {
  const real = await ctx.pool.query(
    `SELECT status || '/' || type AS k, count(*)::int AS n FROM followups WHERE company_id = $1 GROUP BY 1`,
    [companyId],
  );
  const kept = await ctx.pool.query(
    `SELECT status || '/' || type AS k, sum(n)::int AS n FROM followup_counts WHERE company_id = $1 GROUP BY 1 HAVING sum(n) <> 0`,
    [companyId],
  );
  const asMap = (rows: { k: string; n: number }[]): Record<string, number> => Object.fromEntries(rows.map((r) => [r.k, r.n]).sort());
  return { real: asMap(real.rows), kept: asMap(kept.rows) };
}

test('list totals stay exact through creates, updates, duplicates, deletions and concurrent writers', async () => {
  const tenant = await ctx.tenant();
  const debts = [await tenant.debt(), await tenant.debt(), await tenant.debt()];
  const statuses = ['scheduled', 'no_answer', 'deal_found', 'failed'];
  const types = ['call', 'sms', 'email'];
  const created: string[] = [];
  await Promise.all(
    Array.from({ length: 24 }, async (_, i) => {
      const data = await api.created(tenant.auth, {
        debt_id: debts[i % 3], status: statuses[i % 4], type: types[i % 3], call_id: i % 5 === 0 ? `c${i}` : undefined,
      });
      created.push(data.id);
    }),
  );
  // A duplicate call_id creates nothing.
  assert.equal((await api.create(tenant.auth, { debt_id: debts[0], call_id: 'c0', status: 'failed' })).statusCode, 200);
  await Promise.all(created.slice(0, 12).map((id, i) => api.update(tenant.auth, id, { status: statuses[(i + 1) % 4], type: types[(i + 2) % 3] })));
  await Promise.all(created.slice(12, 16).map((id) => api.update(tenant.auth, id, { notes: 'no status change' })));
  const deleted = await ctx.app.inject({ method: 'DELETE', url: `${API}/debts/${debts[2]}`, headers: tenant.auth });
  assert.equal(deleted.statusCode, 200, deleted.body);

  const { real, kept } = await countsOf(tenant.companyId);
  assert.deepEqual(kept, real);
  const total = Object.values(real).reduce((a, b) => a + b, 0);
  assert.equal(total, 16);

  for (const query of ['', 'status=no_answer', 'status=no_answer,failed', 'type=sms', 'status=deal_found&type=call,email']) {
    const listed = body(await api.list(tenant.auth, `${query}&limit=100`));
    assert.equal(listed.pagination.total, listed.data.length, query);
  }
});
