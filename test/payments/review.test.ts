import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { paymentClient } from '../helpers/payments.js';
import { API, body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = paymentClient(ctx);

const updateDebt = (auth: { authorization: string }, id: string, payload: unknown) =>
  ctx.app.inject({ method: 'PATCH', url: `${API}/debts/${id}`, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

describe('payments review', () => {
  test("payments in a debt's former currency do not count towards its amount in the new one", async () => {
    const tenant = await ctx.tenant();
    const debt = await api.debt(tenant.auth, { amount: 100, currency: 'EUR' });
    await api.created(tenant.auth, { debt_id: debt.id, amount: 90, currency: 'EUR' });
    assert.equal((await updateDebt(tenant.auth, debt.id, { currency: 'JPY', amount: 100 })).statusCode, 200);
    await api.created(tenant.auth, { debt_id: debt.id, amount: 10, currency: 'JPY' });
    assert.equal(await api.debtStatus(tenant.auth, debt.id), 'status.default.pending', '90 EUR + 10 JPY is not 100 JPY');
    await api.created(tenant.auth, { debt_id: debt.id, amount: 90, currency: 'JPY' });
    assert.equal(await api.debtStatus(tenant.auth, debt.id), 'status.default.paid');
  });
});
