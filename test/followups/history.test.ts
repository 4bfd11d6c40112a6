import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = followupClient(ctx);

describe('followup history', () => {
  test('records creation and every changed field with from, to and the client as source, oldest first', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, { debt_id: await tenant.debt(), status: 'scheduled', scheduled_at: '2024-01-22T10:00:00+01:00', summary: 'Plan' });
    await api.update(tenant.auth, created.id, { status: 'in_progress', summary: 'Plan' });
    await api.update(tenant.auth, created.id, { status: 'deal_found', call_date: '2024-01-22T09:05:00Z', summary: null });
    const response = await api.history(tenant.auth, created.id, 'limit=100');
    assert.equal(response.statusCode, 200);
    const json = body(response);
    assert.equal(json.error, false);
    const source = `api:${tenant.clientId}`;
    const entries = json.data.map((c: any) => [c.field, c.from, c.to, c.source]);
    assert.deepEqual(entries, [
      ['type', null, 'call', source],
      ['status', null, 'scheduled', source],
      ['scheduled_at', null, '2024-01-22T09:00:00+00:00', source],
      ['summary', null, 'Plan', source],
      ['is_retry', null, false, source],
      ['status', 'scheduled', 'in_progress', source],
      ['status', 'in_progress', 'deal_found', source],
      ['call_date', null, '2024-01-22T09:05:00+00:00', source],
      ['summary', 'Plan', null, source],
    ]);
    for (const change of json.data) {
      assert.deepEqual(Object.keys(change), ['at', 'field', 'from', 'to', 'source']);
      assert.match(change.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    }
    assert.deepEqual(json.pagination, { total: 9, page: 1, limit: 100, pages: 1 });
  });

  test('an update that changes nothing records nothing', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, { debt_id: await tenant.debt(), summary: 'same' });
    await api.update(tenant.auth, created.id, { summary: 'same', type: 'call' });
    const json = body(await api.history(tenant.auth, created.id));
    assert.deepEqual(json.data.map((c: any) => c.field), ['type', 'status', 'summary', 'is_retry'], 'creation entries only');
  });

  test('pages through a long history', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, { debt_id: await tenant.debt() });
    for (let i = 0; i < 6; i++) await api.update(tenant.auth, created.id, { notes: `n${i}` });
    const second = body(await api.history(tenant.auth, created.id, 'page=2&limit=3'));
    assert.deepEqual(second.pagination, { total: 9, page: 2, limit: 3, pages: 3 });
    assert.deepEqual(second.data.map((c: any) => c.to), ['n0', 'n1', 'n2']);
    const bad = await api.history(tenant.auth, created.id, 'page=0&limit=500');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(Object.keys(body(bad).details).sort(), ['limit', 'page']);
  });

  test('security: wrong scope, other company, unknown id', async () => {
    const owner = await ctx.tenant();
    const intruder = await ctx.tenant();
    const writer = await ctx.tenant(['followups:write']);
    const created = await api.created(owner.auth, { debt_id: await owner.debt(), summary: 'private' });
    const denied = await api.history(intruder.auth, created.id);
    assert.equal(denied.statusCode, 403);
    assert.equal(body(denied).message, 'Access denied to this followup');
    assert.equal(denied.body.includes('private'), false);
    assert.equal((await api.history(writer.auth, created.id)).statusCode, 403);
    assert.equal((await api.history(owner.auth, ctx.ids.encode('debt', 1))).statusCode, 404);
    assert.equal((await ctx.app.inject({ method: 'GET', url: `/external-api/v1/followups/${created.id}/history` })).statusCode, 401);
  });
});
