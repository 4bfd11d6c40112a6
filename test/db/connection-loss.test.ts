/**
 * PostgreSQL ending the API's connections under load (a restart, a failover, an administrator
 * terminating sessions) is a 503 for the requests it hits, never a 500 or a crash, and the next
 * requests are served on new connections.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { APPLICATION } from '../../src/db/pool.js';
import { API, setup } from '../helpers/setup.js';

const ctx = await setup();

test('every connection of this process terminated mid-load: only 2xx and 503, and service goes on', { timeout: 60_000 }, async () => {
  const tenant = await ctx.tenant();
  const debtId = await tenant.debt();
  const json = { ...tenant.auth, 'content-type': 'application/json' };
  const requests = [
    () => ctx.app.inject({ method: 'GET', url: `${API}/followups?limit=20`, headers: tenant.auth }),
    () => ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: json, payload: JSON.stringify({ debt_id: debtId }) }),
    () => ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: { ...json, 'idempotency-key': randomUUID() }, payload: JSON.stringify({ debt_id: debtId }) }),
    () => ctx.app.inject({ method: 'GET', url: `${API}/debts/${debtId}`, headers: tenant.auth }),
    () => ctx.app.inject({ method: 'GET', url: '/ready' }),
  ];
  const killer = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL, application_name: 'connection-loss-test' });
  await killer.connect();
  const statuses = new Map<number, number>();
  let terminated = 0;
  try {
    const started = Date.now();
    const load = (async () => {
      for (let round = 0; Date.now() - started < 2_500; round++) {
        const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => requests[(round + i) % requests.length]!()));
        for (const answer of answers) statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
      }
    })();
    for (const at of [500, 1_200]) {
      await new Promise((resolve) => setTimeout(resolve, at - (Date.now() - started)));
      const { rowCount } = await killer.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [`${APPLICATION}${process.pid}`],
      );
      terminated += rowCount ?? 0;
    }
    await load;
  } finally {
    await killer.end();
  }
  assert.ok(terminated > 0, 'connections were terminated under load');
  const unexpected = [...statuses].filter(([status]) => status >= 500 && status !== 503);
  assert.deepEqual(unexpected, [], `statuses: ${JSON.stringify([...statuses])}`);
  const after = await ctx.app.inject({ method: 'GET', url: `${API}/debts/${debtId}`, headers: tenant.auth });
  assert.equal(after.statusCode, 200, 'served again on new connections');
});
