import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
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

test('status changes in opposite directions on backends sharing a counter slot never deadlock', async () => {
  const tenant = await ctx.tenant();
  const debt = await tenant.debt();
  const a = ctx.ids.decode('followup', (await api.created(tenant.auth, { debt_id: debt, status: 'no_answer' })).id)!;
  const b = ctx.ids.decode('followup', (await api.created(tenant.auth, { debt_id: debt, status: 'failed' })).id)!;
  // Two connections whose backends write the same counter slot (pid % 16): at most 17 tries.
  const clients: pg.Client[] = [];
  const bySlot = new Map<number, pg.Client>();
  let pair: [pg.Client, pg.Client] | undefined;
  try {
    while (!pair) {
      const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await client.connect();
      clients.push(client);
      const { rows } = await client.query<{ slot: number }>('SELECT pg_backend_pid() % 16 AS slot');
      const other = bySlot.get(rows[0]!.slot);
      if (other) pair = [other, client];
      else bySlot.set(rows[0]!.slot, client);
    }
    const flip = (client: pg.Client, id: number, from: string, to: string) => async () => {
      for (let i = 0; i < 2000; i++) {
        const [x, y] = i % 2 === 0 ? [from, to] : [to, from];
        await client.query('UPDATE followups SET status = $2 WHERE id = $1 AND status = $3', [id, y, x]);
      }
    };
    await Promise.all([flip(pair[0], a, 'no_answer', 'failed')(), flip(pair[1], b, 'failed', 'no_answer')()]);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  const { rows } = await ctx.pool.query(
    'SELECT status, sum(n)::int AS n FROM followup_counts WHERE company_id = $1 GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1',
    [tenant.companyId],
  );
  assert.deepEqual(rows, [{ status: 'failed', n: 1 }, { status: 'no_answer', n: 1 }]);
});
