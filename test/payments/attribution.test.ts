import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { paymentClient } from '../helpers/payments.js';
import { body, setup } from '../helpers/setup.js';
import { HUMAN_UA, trackingClient } from '../helpers/tracking.js';

const ctx = await setup();
const api = paymentClient(ctx);
const followups = followupClient(ctx);
const tracking = trackingClient(ctx);

const PAY = 'https://pay.example.com/inv-1';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function debtWithFollowups(count: number) {
  const tenant = await ctx.tenant();
  const debt = await api.debt(tenant.auth, { payment_link: PAY, amount: 1000 });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await followups.created(tenant.auth, { debt_id: debt.id, type: 'email', status: 'sent' })).id);
  return { tenant, debt, ids };
}
const triggered = async (auth: { authorization: string }, id: string) => body(await followups.get(auth, id)).data.triggered_payment;

describe('payment attribution', () => {
  test('the followup whose payment link a person clicked last gets the payment', async () => {
    const { tenant, debt, ids: [first, second, third] } = await debtWithFollowups(3);
    // The URL is compared normalised: scheme and host case, fragment.
    await tracking.visit(await tracking.linkUrl(tenant.auth, first!, PAY), HUMAN_UA);
    await tracking.visit(await tracking.linkUrl(tenant.auth, second!, 'HTTPS://PAY.example.com/inv-1#now'), HUMAN_UA);
    // Later, but a scanner, and another URL: neither counts.
    await tracking.visit(await tracking.linkUrl(tenant.auth, third!, PAY), 'Mimecast-URL-Protect');
    await tracking.visit(await tracking.linkUrl(tenant.auth, third!, 'https://pay.example.com/other'), HUMAN_UA);
    const payment = await api.created(tenant.auth, { debt_id: debt.id, amount: 10, currency: 'EUR' });
    assert.equal(payment.followup_id, second);
    assert.deepEqual([await triggered(tenant.auth, first!), await triggered(tenant.auth, second!), await triggered(tenant.auth, third!)], [false, true, false]);
    const history = body(await followups.history(tenant.auth, second!)).data.filter((c: any) => c.field === 'triggered_payment');
    assert.deepEqual(history.map((c: any) => [c.from, c.to, c.source]), [[false, true, 'payment']]);
  });

  test('only clicks within the window (7 days by default) before paid_at count', async () => {
    const { tenant, debt, ids: [followup] } = await debtWithFollowups(1);
    const clickedAt = Date.parse('2024-03-10T12:00:00Z');
    await tracking.event(tenant.auth, followup!, { type: 'clicked', provider_event_id: 'c-1', url: PAY, occurred_at: iso(clickedAt) });
    const at = async (paidAt: number) => (await api.created(tenant.auth, { debt_id: debt.id, amount: 1, currency: 'EUR', paid_at: iso(paidAt) })).followup_id;
    assert.equal(await at(clickedAt - 1000), null, 'a payment before the click');
    assert.equal(await at(clickedAt + 8 * DAY), null, 'a click more than 7 days before');
    assert.equal(await at(clickedAt + 7 * DAY - 1000), followup, 'within 7 days');
    assert.equal(await at(clickedAt), followup, 'the same instant');
  });

  test('no payment link, or no click: no attribution', async () => {
    const tenant = await ctx.tenant();
    const debt = await api.debt(tenant.auth);
    const followup = await followups.created(tenant.auth, { debt_id: debt.id });
    await tracking.visit(await tracking.linkUrl(tenant.auth, followup.id, PAY), HUMAN_UA);
    assert.equal((await api.created(tenant.auth, { debt_id: debt.id, amount: 1, currency: 'EUR' })).followup_id, null);
    assert.equal(await triggered(tenant.auth, followup.id), false);
  });

  test('an explicit followup wins over the last click', async () => {
    const { tenant, debt, ids: [clicked, named] } = await debtWithFollowups(2);
    await tracking.visit(await tracking.linkUrl(tenant.auth, clicked!, PAY), HUMAN_UA);
    const payment = await api.created(tenant.auth, { debt_id: debt.id, amount: 1, currency: 'EUR', followup_id: named });
    assert.equal(payment.followup_id, named);
    assert.equal(await triggered(tenant.auth, clicked!), false);
  });
});

describe('read payments', () => {
  test('GET /payments lists latest paid first, by debt, paged', async () => {
    const tenant = await ctx.tenant();
    const debt = await api.debt(tenant.auth);
    const other = await api.debt(tenant.auth);
    for (const day of ['2024-01-02', '2024-01-03', '2024-01-01']) await api.created(tenant.auth, { debt_id: debt.id, amount: 1, currency: 'EUR', paid_at: day });
    await api.created(tenant.auth, { debt_id: other.id, amount: 1, currency: 'EUR', paid_at: '2024-01-04' });
    const page = body(await api.list(tenant.auth, `debt_id=${debt.id}&limit=2`));
    assert.deepEqual(page.pagination, { total: 3, page: 1, limit: 2, pages: 2 });
    assert.deepEqual(page.data.map((p: any) => p.paid_at), ['2024-01-03T00:00:00+00:00', '2024-01-02T00:00:00+00:00']);
    assert.equal(body(await api.list(tenant.auth)).pagination.total, 4);
    const bad = await api.list(tenant.auth, 'page=0&limit=101');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(Object.keys(body(bad).details).sort(), ['limit', 'page']);
    const intruder = await ctx.tenant();
    assert.equal((await api.list(intruder.auth, `debt_id=${debt.id}`)).statusCode, 403);
    assert.equal((await api.list(intruder.auth, 'debt_id=garbage')).statusCode, 404);
    assert.equal(body(await api.list(intruder.auth)).pagination.total, 0);
  });
});
