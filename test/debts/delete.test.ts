import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { API, body, setup } from '../helpers/setup.js';
import { VALID_DEBT, debtClient } from '../helpers/debts.js';

const ctx = await setup();
const api = debtClient(ctx);

describe('delete debt', () => {
  test('deletes the debt and its followups, and nothing else', async () => {
    const tenant = await ctx.tenant();
    const debt = body(await api.create(tenant.auth, VALID_DEBT)).data;
    const kept = body(await api.create(tenant.auth, VALID_DEBT)).data;
    const followups: string[] = [];
    for (const status of ['scheduled', 'deal_found', 'no_answer']) {
      followups.push(body(await api.createFollowup(tenant.auth, { debt_id: debt.id, status })).data.id);
    }
    const keptFollowup = body(await api.createFollowup(tenant.auth, { debt_id: kept.id })).data.id;

    const response = await api.remove(tenant.auth, debt.id);
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(body(response), {
      error: false, message: 'Debt deleted successfully', data: { id: debt.id, deleted_followups: 3 },
    });

    assert.equal((await api.get(tenant.auth, debt.id)).statusCode, 404);
    for (const id of followups) {
      const gone = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth });
      assert.equal(gone.statusCode, 404);
    }
    const internal = ctx.ids.decode('debt', debt.id);
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM followups WHERE debt_id = $1', [internal]);
    assert.equal(rows[0].n, 0);

    assert.equal((await api.get(tenant.auth, kept.id)).statusCode, 200);
    const stillThere = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${keptFollowup}`, headers: tenant.auth });
    assert.equal(stillThere.statusCode, 200);
  });

  test('a debt without followups; deleting twice is 404 the second time', async () => {
    const tenant = await ctx.tenant();
    const debt = body(await api.create(tenant.auth, VALID_DEBT)).data;
    assert.deepEqual(body(await api.remove(tenant.auth, debt.id)).data, { id: debt.id, deleted_followups: 0 });
    const again = await api.remove(tenant.auth, debt.id);
    assert.equal(again.statusCode, 404);
    assert.equal(again.body, JSON.stringify({ error: true, message: 'Debt not found', code: 404 }));
  });

  test("another company's debt is 403 and is kept with its followups", async () => {
    const owner = await ctx.tenant();
    const other = await ctx.tenant();
    const debt = body(await api.create(owner.auth, VALID_DEBT)).data;
    const followup = body(await api.createFollowup(owner.auth, { debt_id: debt.id })).data.id;
    const response = await api.remove(other.auth, debt.id);
    assert.equal(response.statusCode, 403);
    assert.equal(response.body, JSON.stringify({ error: true, message: 'Access denied to this debt', code: 403 }));
    const after = body(await api.get(owner.auth, debt.id)).data;
    assert.deepEqual({ ...after, followups_count: 0 }, debt);
    assert.equal(after.followups_count, 1);
    const kept = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${followup}`, headers: owner.auth });
    assert.equal(kept.statusCode, 200);
  });

  test('unknown and cross-type ids are 404', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const followupId = body(await api.createFollowup(tenant.auth, { debt_id: debtId })).data.id as string;
    for (const id of [followupId, ctx.ids.encode('debt', 2 ** 40), ctx.ids.encode('company', tenant.companyId), 'nope']) {
      const response = await api.remove(tenant.auth, id);
      assert.equal(response.statusCode, 404, id);
      assert.equal(body(response).message, 'Debt not found');
    }
    assert.equal((await api.get(tenant.auth, debtId)).statusCode, 200);
    const followup = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${followupId}`, headers: tenant.auth });
    assert.equal(followup.statusCode, 200, 'a followup id used as a debt id deletes nothing');
  });
});
