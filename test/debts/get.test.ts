import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { body, setup } from '../helpers/setup.js';
import { DEBT_KEYS, VALID_DEBT, debtClient } from '../helpers/debts.js';

const ctx = await setup();
const api = debtClient(ctx);

describe('get debt', () => {
  test('returns the debt with Success', async () => {
    const tenant = await ctx.tenant();
    const created = body(await api.create(tenant.auth, { ...VALID_DEBT, city: 'Lyon' })).data;
    const response = await api.get(tenant.auth, created.id);
    assert.equal(response.statusCode, 200);
    const json = body(response);
    assert.deepEqual(Object.keys(json), ['error', 'message', 'data']);
    assert.equal(json.error, false);
    assert.equal(json.message, 'Success');
    assert.deepEqual(Object.keys(json.data), DEBT_KEYS);
    assert.deepEqual(json.data, created);
  });

  // Another company's debt (403): test/debts/security.test.ts.

  test('unknown, tampered and cross-type ids are 404 Debt not found', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const followupId = body(await api.createFollowup(tenant.auth, { debt_id: debtId })).data.id as string;
    const flipped = debtId.slice(0, 5) + (debtId[5] === 'A' ? 'B' : 'A') + debtId.slice(6);
    const candidates = [
      ctx.ids.encode('debt', 2 ** 40), followupId, ctx.ids.encode('company', tenant.companyId), flipped, 'abc123def456', 'x'.repeat(150), '%00', '...',
    ];
    for (const id of candidates) {
      const response = await api.get(tenant.auth, id);
      assert.equal(response.statusCode, 404, id);
      assert.equal(response.body, JSON.stringify({ error: true, message: 'Debt not found', code: 404 }));
    }
  });
});

describe('debt counts: followups_count, nb_reminders, nb_answered', () => {
  test('are computed from the debt followups', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const otherDebt = await tenant.debt();
    // [status, direction, counts as a reminder, counts as answered]
    const followups: [string, string | null, boolean, boolean][] = [
      ['on_hold', null, false, false],
      ['scheduled', 'outbound', false, false],
      ['cancelled', null, false, false],
      ['no_answer', 'outbound', true, false],
      ['sent', null, true, false],
      ['failed', 'outbound', true, false],
      ['deal_found', null, true, true],
      ['bad_behavior', 'outbound', true, true],
      ['deal_not_found', 'inbound', false, true],
      ['in_progress', 'inbound', false, false],
    ];
    for (const [status, direction] of followups) {
      const response = await api.createFollowup(tenant.auth, { debt_id: debtId, status, direction });
      assert.equal(response.statusCode, 201, response.body);
    }
    await api.createFollowup(tenant.auth, { debt_id: otherDebt, status: 'deal_found' });
    const data = body(await api.get(tenant.auth, debtId)).data;
    assert.equal(data.followups_count, followups.length);
    assert.equal(data.nb_reminders, followups.filter((f) => f[2]).length);
    assert.equal(data.nb_answered, followups.filter((f) => f[3]).length);
    assert.deepEqual([data.followups_count, data.nb_reminders, data.nb_answered], [10, 5, 3]);
    const other = body(await api.get(tenant.auth, otherDebt)).data;
    assert.deepEqual([other.followups_count, other.nb_reminders, other.nb_answered], [1, 1, 1]);

    const listed = body(await api.list(tenant.auth)).data.find((d: { id: string }) => d.id === debtId);
    assert.deepEqual([listed.followups_count, listed.nb_reminders, listed.nb_answered], [10, 5, 3]);
    const updated = body(await api.update(tenant.auth, debtId, { city: 'Nantes' })).data;
    assert.deepEqual([updated.followups_count, updated.nb_reminders, updated.nb_answered], [10, 5, 3]);
  });
});
