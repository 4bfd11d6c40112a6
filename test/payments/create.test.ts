import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { paymentClient } from '../helpers/payments.js';
import { body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = paymentClient(ctx);
const followups = followupClient(ctx);

/** A new company's debt of `amount` in EUR, paid in two payments: still pending after the first, paid after the second. */
async function paidInTwo(amount: number, first: number | string, second: number | string) {
  const tenant = await ctx.tenant();
  const debt = await api.debt(tenant.auth, { amount });
  await api.created(tenant.auth, { debt_id: debt.id, amount: first, currency: 'EUR' });
  assert.equal(await api.debtStatus(tenant.auth, debt.id), 'status.default.pending');
  await api.created(tenant.auth, { debt_id: debt.id, amount: second, currency: 'EUR' });
  assert.equal(await api.debtStatus(tenant.auth, debt.id), 'status.default.paid');
  return debt;
}

describe('create payment', () => {
  test('records a payment and returns it in the API format; GET returns the same', async () => {
    const tenant = await ctx.tenant();
    const debt = await api.debt(tenant.auth);
    const response = await api.create(tenant.auth, { debt_id: debt.id, amount: '12.30', currency: 'eur', paid_at: '2024-01-25T11:00:00+01:00', reference: 'PSP-1' });
    assert.equal(response.statusCode, 201, response.body);
    const json = body(response);
    assert.equal(json.error, false);
    assert.equal(json.message, 'Payment recorded successfully');
    assert.deepEqual(Object.keys(json.data), ['id', 'debt_id', 'amount', 'currency', 'paid_at', 'reference', 'followup_id', 'created_at']);
    assert.deepEqual({ ...json.data, id: undefined, created_at: undefined }, {
      id: undefined, debt_id: debt.id, amount: 12.3, currency: 'EUR', paid_at: '2024-01-25T10:00:00+00:00', reference: 'PSP-1', followup_id: null, created_at: undefined,
    });
    assert.match(json.data.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    assert.deepEqual(body(await api.get(tenant.auth, json.data.id)).data, json.data);
    assert.equal(await api.debtStatus(tenant.auth, debt.id), 'status.default.pending');
  });

  test('exact decimals: 0.1 + 0.2 covers a debt of 0.30, and the sum is exact', async () => {
    const debt = await paidInTwo(0.3, 0.1, '0.2');
    const { rows } = await ctx.pool.query('SELECT sum(amount)::text AS total FROM payments WHERE debt_id = $1', [ctx.ids.decode('debt', debt.id)]);
    assert.equal(rows[0].total, '0.30');
  });

  test('the debt becomes paid when covered, not before; overpayment is fine', async () => {
    await paidInTwo(100, 99.99, '5');
  });

  test('concurrent payments covering the debt together mark it paid', async () => {
    const tenant = await ctx.tenant();
    const debt = await api.debt(tenant.auth, { amount: 10 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => api.create(tenant.auth, { debt_id: debt.id, amount: '1.00', currency: 'EUR' })));
    assert.deepEqual(responses.map((r) => r.statusCode), Array(10).fill(201));
    assert.equal(await api.debtStatus(tenant.auth, debt.id), 'status.default.paid');
  });

  test('a repeated reference for the same debt returns the first payment with 200, counted once, even concurrently', async () => {
    const tenant = await ctx.tenant();
    const debt = await api.debt(tenant.auth, { amount: 100 });
    const first = await api.created(tenant.auth, { debt_id: debt.id, amount: 60, currency: 'EUR', reference: 'R-1' });
    const again = await api.create(tenant.auth, { debt_id: debt.id, amount: 60, currency: 'EUR', reference: 'R-1' });
    assert.equal(again.statusCode, 200);
    assert.equal(body(again).message, 'Payment already recorded');
    assert.deepEqual(body(again).data, first);
    assert.equal(await api.debtStatus(tenant.auth, debt.id), 'status.default.pending', 'not counted twice');
    const racing = await Promise.all([1, 2].map(() => api.create(tenant.auth, { debt_id: debt.id, amount: 10, currency: 'EUR', reference: 'R-2' })));
    assert.deepEqual(racing.map((r) => r.statusCode).sort(), [200, 201]);
    assert.equal(body(racing[0]!).data.id, body(racing[1]!).data.id);
    assert.equal(body(await api.list(tenant.auth, `debt_id=${debt.id}`)).pagination.total, 2);
    const otherDebt = await api.debt(tenant.auth);
    assert.equal((await api.create(tenant.auth, { debt_id: otherDebt.id, amount: 60, currency: 'EUR', reference: 'R-1' })).statusCode, 201, 'a reference is per debt');
  });

  test("a currency other than the debt's, or too many decimals for it: 400 on the field", async () => {
    const tenant = await ctx.tenant();
    const debt = await api.debt(tenant.auth);
    const wrong = await api.create(tenant.auth, { debt_id: debt.id, amount: 10, currency: 'USD' });
    assert.equal(wrong.statusCode, 400);
    assert.deepEqual(body(wrong).details, { currency: "currency must be the debt's currency (EUR)" });
    const yen = await api.debt(tenant.auth, { currency: 'JPY', amount: 1000 });
    const decimals = await api.create(tenant.auth, { debt_id: yen.id, amount: '10.5', currency: 'JPY' });
    assert.deepEqual(Object.keys(body(decimals).details), ['amount']);
    assert.equal((await api.create(tenant.auth, { debt_id: yen.id, amount: '10.00', currency: 'JPY' })).statusCode, 201, 'trailing zeros are no decimals');
  });

  test('bad amounts and bodies: 400 naming the field, never 500', async () => {
    const tenant = await ctx.tenant();
    const debt = await api.debt(tenant.auth);
    for (const amount of [0, -1, '0.00', '-5', '1.234', 0.001, 1e21, '1e3', '', ' 1', '1,5', '9999999999999', 'NaN', true, null, [], {}, 'x'.repeat(100)]) {
      const response = await api.create(tenant.auth, { debt_id: debt.id, amount, currency: 'EUR' });
      assert.equal(response.statusCode, 400, `${JSON.stringify(amount)}: ${response.body}`);
      assert.deepEqual(Object.keys(body(response).details), ['amount'], JSON.stringify(amount));
    }
    const all = await api.create(tenant.auth, { debt_id: 5, currency: 'EURO', paid_at: 'soon', reference: '', followup_id: 3 });
    assert.equal(all.statusCode, 400);
    assert.deepEqual(Object.keys(body(all).details).sort(), ['amount', 'currency', 'debt_id', 'followup_id', 'paid_at', 'reference']);
    for (const payload of [null, [], 'x', {}]) assert.equal((await api.create(tenant.auth, payload)).statusCode, 400, JSON.stringify(payload));
  });

  test("a debt that is not the caller's: 400 on debt_id", async () => {
    const owner = await ctx.tenant();
    const intruder = await ctx.tenant();
    const debt = await api.debt(owner.auth);
    for (const debtId of [debt.id, 'garbage', ctx.ids.encode('debt', 2 ** 40)]) {
      const response = await api.create(intruder.auth, { debt_id: debtId, amount: 10, currency: 'EUR' });
      assert.equal(response.statusCode, 400);
      assert.deepEqual(Object.keys(body(response).details), ['debt_id']);
    }
    assert.equal(body(await api.list(owner.auth, `debt_id=${debt.id}`)).pagination.total, 0);
  });

  test('an explicit followup of another debt (or company, or no followup): 400 on followup_id; of the debt: it wins', async () => {
    const tenant = await ctx.tenant();
    const other = await ctx.tenant();
    const debt = await api.debt(tenant.auth);
    const otherDebt = await api.debt(tenant.auth);
    const foreign = await followups.created(tenant.auth, { debt_id: otherDebt.id });
    const otherCompany = await other.followup(await other.debt());
    for (const followupId of [foreign.id, otherCompany, 'garbage', debt.id]) {
      const response = await api.create(tenant.auth, { debt_id: debt.id, amount: 10, currency: 'EUR', followup_id: followupId });
      assert.equal(response.statusCode, 400, followupId);
      assert.deepEqual(body(response).details, { followup_id: 'followup_id must be the ID of a followup of this debt' });
    }
    const own = await followups.created(tenant.auth, { debt_id: debt.id });
    const payment = await api.created(tenant.auth, { debt_id: debt.id, amount: 10, currency: 'EUR', followup_id: own.id });
    assert.equal(payment.followup_id, own.id);
    assert.equal(body(await followups.get(tenant.auth, own.id)).data.triggered_payment, true);
    const history = body(await followups.history(tenant.auth, own.id)).data.filter((c: any) => c.field === 'triggered_payment');
    assert.deepEqual(history.map((c: any) => [c.from, c.to, c.source]), [[false, true, 'payment']]);
  });
});
