import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { body, setup, type Tenant } from '../helpers/setup.js';
import { VALID_DEBT, debtClient } from '../helpers/debts.js';

const ctx = await setup();
const api = debtClient(ctx);

const WRITABLE = [
  'status.default.paid', 'status.default.in_progress', 'status.default.on_hold', 'status.default.failed', 'status.default.archived',
];

async function created(tenant: Tenant, fields: Record<string, unknown> = {}) {
  const response = await api.create(tenant.auth, { ...VALID_DEBT, ...fields });
  assert.equal(response.statusCode, 201, response.body);
  return body(response).data;
}

/** The `details` of an update that must fail with 400; the debt is left as it was. */
async function refused(tenant: Tenant, debt: { id: string }, payload: unknown): Promise<Record<string, string>> {
  const response = await api.update(tenant.auth, debt.id, payload);
  assert.equal(response.statusCode, 400, response.body);
  assert.equal(body(response).message, 'Validation failed');
  assert.deepEqual(body(await api.get(tenant.auth, debt.id)).data, debt);
  return body(response).details;
}

describe('update debt', () => {
  test('only the fields sent change; PUT and PATCH are the same', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant, { city: 'Lyon', object: 'Invoice 1' });
    for (const method of ['PATCH', 'PUT'] as const) {
      const response = await api.update(tenant.auth, debt.id, { city: `Paris ${method}`, amount: 300.5 }, method);
      assert.equal(response.statusCode, 200, response.body);
      const json = body(response);
      assert.equal(json.message, 'Debt updated successfully');
      assert.deepEqual(json.data, {
        ...debt, city: `Paris ${method}`, amount: 300.5, amount_text: '300,50\u00a0€',
      });
      assert.deepEqual(body(await api.get(tenant.auth, debt.id)).data, json.data);
    }
  });

  test('null clears a nullable field', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant, { city: 'Lyon', metadata: { a: 1 }, civility: 'Mr', phone: '+33612345678', due_date: '2024-01-01' });
    const response = await api.update(tenant.auth, debt.id, { city: null, metadata: null, civility: null, phone: null, due_date: null });
    assert.equal(response.statusCode, 200, response.body);
    const data = body(response).data;
    for (const key of ['city', 'metadata', 'civility', 'phone', 'due_date']) assert.equal(data[key], null, key);
    assert.equal(data.email, VALID_DEBT.email);
  });

  test('an empty body changes nothing', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant);
    const response = await api.update(tenant.auth, debt.id, {});
    assert.equal(response.statusCode, 200);
    assert.deepEqual(body(response).data, debt);
  });

  test('every writable status can be set; pending cannot be set back', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant);
    for (const status of WRITABLE) {
      const response = await api.update(tenant.auth, debt.id, { status });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(body(response).data.status, status);
    }
    const current = body(await api.get(tenant.auth, debt.id)).data;
    const message = `Invalid debt status. Valid statuses are: ${WRITABLE.join(', ')}`;
    for (const status of ['status.default.pending', 'paid', 'status.default.unknown', null, 1]) {
      assert.deepEqual(await refused(tenant, current, { status }), { status: message }, String(status));
    }
  });

  test('a national phone number is read with the stored country, or the one sent with it', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant, { country: 'FR' });
    assert.equal(body(await api.update(tenant.auth, debt.id, { phone: '06 12 34 56 78' })).data.phone, '+33612345678');
    assert.equal(body(await api.update(tenant.auth, debt.id, { phone: '020 7946 0958', country: 'GB' })).data.phone, '+442079460958');
    const updated = body(await api.update(tenant.auth, debt.id, { country: null })).data;
    assert.equal(updated.phone, '+442079460958');
    assert.match((await refused(tenant, updated, { phone: '06 12 34 56 78' })).phone!, /the debt has no country/);
  });

  test('the debt keeps phone or email', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant, { phone: '+33612345678' });
    const expected = { phone: 'At least one of phone or email is required', email: 'At least one of phone or email is required' };
    assert.deepEqual(await refused(tenant, debt, { phone: null, email: null }), expected);
    const emailOnly = body(await api.update(tenant.auth, debt.id, { phone: null })).data;
    assert.deepEqual(await refused(tenant, emailOnly, { email: null }), expected);
    const swapped = await api.update(tenant.auth, debt.id, { email: null, phone: '+33612345678' });
    assert.equal(swapped.statusCode, 200, swapped.body);
    assert.deepEqual([body(swapped).data.phone, body(swapped).data.email], ['+33612345678', null]);
  });

  test('required fields cannot be cleared; values are checked as on create', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant);
    const details = await refused(tenant, debt, {
      firstname: null, lastname: '', amount: null, currency: null, email: 'nope', iban: 'FR00', country: 'XX', birthdate: '2024-13-01',
    });
    assert.deepEqual(Object.keys(details).sort(), ['amount', 'birthdate', 'country', 'currency', 'email', 'firstname', 'iban', 'lastname']);
  });

  test('decimals are checked against the currency, whichever of the two changes', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant, { amount: 100.5 });
    assert.deepEqual(await refused(tenant, debt, { currency: 'JPY' }), {
      currency: "currency JPY allows no decimals: the debt's amount 100.5 has more",
    });
    assert.deepEqual(await refused(tenant, debt, { currency: 'JPY', amount: 99.9 }), { amount: 'amount must have no decimals in JPY' });
    const yen = await api.update(tenant.auth, debt.id, { currency: 'JPY', amount: 15000 });
    assert.equal(body(yen).data.amount_text, '15\u202f000\u00a0JPY');
    assert.deepEqual(await refused(tenant, body(yen).data, { amount: 15000.5 }), { amount: 'amount must have no decimals in JPY' });
  });

  test('read-only and unknown fields are ignored', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant);
    const response = await api.update(tenant.auth, debt.id, { id: 'x', followups_count: 5, import_date: '2020-01-01', colour: 'red' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(body(response).data, debt);
  });

  test('a body that is not an object is a validation error', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant);
    for (const payload of [[1], 'text', 42, null]) {
      const response = await api.update(tenant.auth, debt.id, payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
    }
  });

  test('concurrent updates cannot together remove both contacts', async () => {
    const tenant = await ctx.tenant();
    const debt = await created(tenant, { phone: '+33612345678' });
    const results = await Promise.all([api.update(tenant.auth, debt.id, { phone: null }), api.update(tenant.auth, debt.id, { email: null })]);
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400]);
    const data = body(await api.get(tenant.auth, debt.id)).data;
    assert.ok(data.phone !== null || data.email !== null);
  });
});

describe('update debt: ownership', () => {
  test("another company's debt is 403 and is left unchanged, whatever the body", async () => {
    const owner = await ctx.tenant();
    const other = await ctx.tenant();
    const debt = await created(owner, { city: 'Lyon' });
    for (const payload of [{ city: 'Hacked', status: 'status.default.paid' }, { amount: -1 }, {}]) {
      for (const method of ['PUT', 'PATCH'] as const) {
        const response = await api.update(other.auth, debt.id, payload, method);
        assert.equal(response.statusCode, 403);
        assert.equal(response.body, JSON.stringify({ error: true, message: 'Access denied to this debt', code: 403 }));
      }
    }
    assert.deepEqual(body(await api.get(owner.auth, debt.id)).data, debt);
  });

  test('unknown and cross-type ids are 404', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const followupId = body(await api.createFollowup(tenant.auth, { debt_id: debtId })).data.id as string;
    for (const id of [followupId, ctx.ids.encode('debt', 2 ** 40), 'nope']) {
      const response = await api.update(tenant.auth, id, { city: 'X' });
      assert.equal(response.statusCode, 404, id);
      assert.equal(body(response).message, 'Debt not found');
    }
  });
});
