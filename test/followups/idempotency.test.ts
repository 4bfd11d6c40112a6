import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = followupClient(ctx);

async function countOnDebt(debtId: string): Promise<number> {
  const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM followups WHERE debt_id = $1', [ctx.ids.decode('debt', debtId)]);
  return rows[0].n;
}

describe('Idempotency-Key on create', () => {
  test('the same key and body replay the stored response: same id, same status, same bytes', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const key = randomUUID();
    const payload = { debt_id: debtId, summary: 'once', status: 'scheduled' };
    const first = await api.create(tenant.auth, payload, { 'idempotency-key': key });
    assert.equal(first.statusCode, 201);
    const again = await api.create(tenant.auth, { status: 'scheduled', summary: 'once', debt_id: debtId }, { 'idempotency-key': key });
    assert.equal(again.statusCode, 201);
    assert.equal(again.body, first.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(await countOnDebt(debtId), 1);
  });

  test('the same key with another body is a 422, and creates nothing', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const key = randomUUID();
    await api.create(tenant.auth, { debt_id: debtId, summary: 'a' }, { 'idempotency-key': key });
    const conflict = await api.create(tenant.auth, { debt_id: debtId, summary: 'b' }, { 'idempotency-key': key });
    assert.equal(conflict.statusCode, 422);
    assert.equal(body(conflict).message, 'Idempotency-Key was already used with a different request');
    assert.equal(await countOnDebt(debtId), 1);
  });

  test('identical requests racing with one key create one followup', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const key = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api.create(tenant.auth, { debt_id: debtId, summary: 'race' }, { 'idempotency-key': key })),
    );
    const created = responses.map((r) => body(r).data.id);
    for (const response of responses) assert.equal(response.statusCode, 201);
    assert.equal(new Set(created).size, 1);
    assert.equal(await countOnDebt(debtId), 1);
  });

  test('keys belong to a company: another company may use the same key', async () => {
    const one = await ctx.tenant();
    const two = await ctx.tenant();
    const key = randomUUID();
    const a = await api.create(one.auth, { debt_id: await one.debt() }, { 'idempotency-key': key });
    const b = await api.create(two.auth, { debt_id: await two.debt() }, { 'idempotency-key': key });
    assert.equal(a.statusCode, 201);
    assert.equal(b.statusCode, 201);
    assert.notEqual(body(a).data.id, body(b).data.id);
  });

  test('a failed request stores nothing: the key can be used again', async () => {
    const tenant = await ctx.tenant();
    const key = randomUUID();
    const failed = await api.create(tenant.auth, { debt_id: ctx.ids.encode('debt', 2 ** 40) }, { 'idempotency-key': key });
    assert.equal(failed.statusCode, 400);
    const ok = await api.create(tenant.auth, { debt_id: await tenant.debt() }, { 'idempotency-key': key });
    assert.equal(ok.statusCode, 201);
  });

  test('a key expires after 24 hours', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const key = randomUUID();
    const first = body(await api.create(tenant.auth, { debt_id: debtId, summary: 'day 1' }, { 'idempotency-key': key }));
    await ctx.pool.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE company_id = $1 AND key = $2", [tenant.companyId, key]);
    const later = await api.create(tenant.auth, { debt_id: debtId, summary: 'day 2' }, { 'idempotency-key': key });
    assert.equal(later.statusCode, 201);
    assert.notEqual(body(later).data.id, first.data.id);
  });

  test('a malformed key is a 400 naming the header', async () => {
    const tenant = await ctx.tenant();
    for (const key of ['x'.repeat(256), 'with space', 'é']) {
      const response = await api.create(tenant.auth, { debt_id: await tenant.debt() }, { 'idempotency-key': key });
      assert.equal(response.statusCode, 400, key);
      assert.equal(body(response).details['Idempotency-Key'], 'Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces), sent once');
    }
    const longest = await api.create(tenant.auth, { debt_id: await tenant.debt() }, { 'idempotency-key': 'k'.repeat(255) });
    assert.equal(longest.statusCode, 201);
  });
});

describe('call_id de-duplication', () => {
  test('a create with a call_id already on the debt returns the existing followup with 200', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const first = await api.create(tenant.auth, { debt_id: debtId, call_id: 'prov-123', status: 'in_progress' });
    assert.equal(first.statusCode, 201);
    const retry = await api.create(tenant.auth, { debt_id: debtId, call_id: 'prov-123', status: 'deal_found' });
    assert.equal(retry.statusCode, 200);
    const json = body(retry);
    assert.equal(json.message, 'Followup created successfully');
    assert.deepEqual(json.data, body(first).data);
    assert.equal(await countOnDebt(debtId), 1);
  });

  test('the same call_id on another debt is another followup', async () => {
    const tenant = await ctx.tenant();
    const a = await api.create(tenant.auth, { debt_id: await tenant.debt(), call_id: 'shared' });
    const b = await api.create(tenant.auth, { debt_id: await tenant.debt(), call_id: 'shared' });
    assert.equal(a.statusCode, 201);
    assert.equal(b.statusCode, 201);
  });

  test('an empty call_id names no call: stored as null, never de-duplicated', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const a = await api.create(tenant.auth, { debt_id: debtId, call_id: '' });
    const b = await api.create(tenant.auth, { debt_id: debtId, call_id: '' });
    assert.deepEqual([a.statusCode, b.statusCode], [201, 201]);
    assert.notEqual(body(a).data.id, body(b).data.id);
    assert.equal(body(a).data.call_id, null);
    const updated = await api.update(tenant.auth, body(a).data.id, { call_id: '' });
    assert.equal(body(updated).data.call_id, null);
    assert.equal((await api.create(tenant.auth, { debt_id: debtId, call_id: '' })).statusCode, 201);
    assert.equal(await countOnDebt(debtId), 3);
  });

  test('racing callbacks with one call_id create one followup', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const responses = await Promise.all(Array.from({ length: 8 }, () => api.create(tenant.auth, { debt_id: debtId, call_id: 'burst' })));
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
    assert.equal(new Set(responses.map((r) => body(r).data.id)).size, 1);
    assert.equal(await countOnDebt(debtId), 1);
  });
});
