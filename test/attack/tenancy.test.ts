/**
 * The tenancy matrix over every kind of object, with two companies that each have all of them
 * (a debt, followups with a recording, tracking events, a payment, a webhook subscription and
 * its deliveries): with A's token nothing of B's can be read, changed, listed or counted, and
 * none of B's changes is delivered to A's subscription. The per-endpoint 403/404 cases of each
 * feature are in its own security test (test/helpers/security.ts); this file looks across them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { waitFor } from '../helpers/processes.js';
import { API, body, type Tenant } from '../helpers/setup.js';
import { HUMAN_UA, trackingClient } from '../helpers/tracking.js';
import { WEBHOOK_EVENTS } from '../../src/webhooks/events.js';
import { deliveryWorker, receiver, webhookClient, webhookSetup } from '../helpers/webhooks.js';

const ctx = await webhookSetup();
const hooks = webhookClient(ctx);
const tracking = trackingClient(ctx);
await deliveryWorker(ctx, { retryBaseMs: 100 });
const hook = await receiver();

interface Estate {
  tenant: Tenant;
  debt: string;
  followups: string[];
  payment: string;
  webhook: string;
  path: string;
}

const request = (tenant: Tenant, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown) => ctx.app.inject({
  method, url: `${API}${url}`, headers: { ...tenant.auth, ...(payload !== undefined && { 'content-type': 'application/json' }) },
  ...(payload !== undefined && { payload: JSON.stringify(payload) }),
});

/** A company with one of everything, its subscription listening before anything happens. */
async function estate(name: string): Promise<Estate> {
  const tenant = await ctx.tenant();
  const path = `/tenancy/${name}`;
  const webhook = (await hooks.created(tenant, { url: `http://127.0.0.1:${hook.port}${path}`, events: [...WEBHOOK_EVENTS] })).id;
  const debt = body(await request(tenant, 'POST', '/debts', {
    firstname: name, lastname: 'Doe', email: `${name}@example.com`, amount: 50, currency: 'EUR', payment_link: `https://pay.example.com/${name}`,
  })).data.id;
  const followups: string[] = [];
  for (const status of ['sent', 'scheduled']) {
    followups.push(body(await request(tenant, 'POST', '/followups', { debt_id: debt, type: 'email', status, summary: `${name} ${status}` })).data.id);
  }
  const upload = await ctx.app.inject({
    method: 'PUT', url: `${API}/followups/${followups[0]}/audio`, headers: { ...tenant.auth, 'content-type': 'audio/mpeg' }, payload: randomBytes(256),
  });
  assert.equal(upload.statusCode, 200);
  await tracking.visit(await tracking.pixelUrl(tenant.auth, followups[0]!), HUMAN_UA);
  await tracking.visit(await tracking.linkUrl(tenant.auth, followups[0]!, `https://pay.example.com/${name}`), HUMAN_UA);
  const payment = body(await request(tenant, 'POST', '/payments', { debt_id: debt, amount: '20.00', currency: 'EUR' })).data.id;
  await request(tenant, 'PATCH', `/followups/${followups[1]}`, { status: 'deal_found' });
  return { tenant, debt, followups, payment, webhook, path };
}

const a = await estate('alice');
const b = await estate('bruno');

/** The ids of a list page (limit 100: every item of these small companies). */
async function listed(tenant: Tenant, url: string): Promise<{ status: number; ids: string[]; total: number | undefined }> {
  const response = await request(tenant, 'GET', url);
  const parsed = body(response);
  return { status: response.statusCode, ids: (parsed.data ?? []).map((item: { id: string }) => item.id), total: parsed.pagination?.total };
}

describe("tenancy: nothing of B's through A's token", () => {
  test('every list of A shows and counts only A\'s objects', async () => {
    const cases: [string, string[]][] = [
      ['/followups?limit=100', a.followups],
      [`/followups/debt/${a.debt}?limit=100`, a.followups],
      ['/debts?limit=100', [a.debt]],
      ['/payments?limit=100', [a.payment]],
      [`/payments?debt_id=${a.debt}&limit=100`, [a.payment]],
      ['/webhooks?limit=100', [a.webhook]],
    ];
    for (const [url, expected] of cases) {
      const page = await listed(a.tenant, url);
      assert.equal(page.status, 200, url);
      assert.deepEqual([...page.ids].sort(), [...expected].sort(), url);
      assert.equal(page.total, expected.length, `${url}: the total counts A's objects only`);
    }
  });

  test("a list filtered or nested on one of B's objects is refused, never B's data", async () => {
    for (const url of [
      `/followups/debt/${b.debt}`, `/payments?debt_id=${b.debt}`, `/followups/${b.followups[0]}/history`,
      `/followups/${b.followups[0]}/tracking-events`, `/webhooks/${b.webhook}/deliveries`,
    ]) {
      const response = await request(a.tenant, 'GET', url);
      assert.equal(response.statusCode, 403, url);
      assert.equal(body(response).data, undefined, url);
    }
    // Filtering the company's list by B's debt finds nothing of B's.
    const filtered = await request(a.tenant, 'GET', `/followups?debt_id=${b.debt}`);
    assert.ok(filtered.statusCode === 403 || (filtered.statusCode === 200 && body(filtered).data.length === 0), filtered.body);
  });

  test("B's objects cannot be read or changed with A's token, and stay as they were", async () => {
    const before = await ctx.pool.query('SELECT to_jsonb(f) AS row FROM followups f WHERE company_id = $1 ORDER BY id', [b.tenant.companyId]);
    const attempts: [Parameters<typeof request>[1], string, unknown?][] = [
      ['GET', `/followups/${b.followups[0]}`], ['PATCH', `/followups/${b.followups[0]}`, { summary: 'taken over' }],
      ['PUT', `/followups/${b.followups[0]}`, { status: 'cancelled' }], ['GET', `/followups/${b.followups[0]}/recording`],
      ['DELETE', `/followups/${b.followups[0]}/audio`], ['POST', `/followups/${b.followups[0]}/tracking-links`, { url: 'https://x.example.com' }],
      ['GET', `/followups/${b.followups[0]}/tracking-pixel`], ['POST', `/followups/${b.followups[0]}/events`, { type: 'opened' }],
      ['GET', `/debts/${b.debt}`], ['PATCH', `/debts/${b.debt}`, { city: 'Elsewhere' }], ['DELETE', `/debts/${b.debt}`],
      ['GET', `/payments/${b.payment}`], ['POST', '/payments', { debt_id: b.debt, amount: '1.00', currency: 'EUR' }],
      ['POST', '/followups', { debt_id: b.debt }],
      ['GET', `/webhooks/${b.webhook}`], ['PATCH', `/webhooks/${b.webhook}`, { url: `http://127.0.0.1:${hook.port}/stolen` }],
      ['POST', `/webhooks/${b.webhook}/rotate-secret`], ['POST', `/webhooks/${b.webhook}/test`], ['DELETE', `/webhooks/${b.webhook}`],
    ];
    for (const [method, url, payload] of attempts) {
      const response = await request(a.tenant, method, url, payload);
      assert.ok([400, 403].includes(response.statusCode), `${method} ${url}: ${response.statusCode} ${response.body}`);
      assert.doesNotMatch(response.body, /bruno/i, `${method} ${url} shows nothing of B's`);
    }
    const after = await ctx.pool.query('SELECT to_jsonb(f) AS row FROM followups f WHERE company_id = $1 ORDER BY id', [b.tenant.companyId]);
    assert.deepEqual(after.rows, before.rows);
    assert.equal(body(await request(b.tenant, 'GET', `/webhooks/${b.webhook}`)).data.url, `http://127.0.0.1:${hook.port}${b.path}`);
    // B's deliveries, even under A's own subscription's path, are not A's to see or retry.
    const ofB = body(await hooks.deliveries(b.tenant, b.webhook, '?limit=100')).data;
    assert.ok(ofB.length > 0);
    for (const delivery of ofB.slice(0, 3)) {
      assert.equal((await hooks.delivery(a.tenant, a.webhook, delivery.id)).statusCode, 404);
      assert.equal((await hooks.retry(a.tenant, a.webhook, delivery.id)).statusCode, 404);
    }
  });

  test("none of B's events reaches A's subscription, and A's deliveries are all A's", async () => {
    // Each estate's own events: its debt, followups, recording, opens and clicks, payment.
    const settled = async (e: Estate) => waitFor(`the deliveries of ${e.path}`, async () => {
      const deliveries = body(await hooks.deliveries(e.tenant, e.webhook, '?limit=100')).data as { status: string; event_id: string }[];
      return deliveries.length > 0 && deliveries.every((d) => d.status === 'delivered') ? deliveries : undefined;
    });
    const ofA = await settled(a);
    const ofB = await settled(b);
    const at = (path: string) => hook.received.filter((r) => r.path === path);
    const mine = (e: Estate) => new Set([...e.followups, e.debt, e.payment]);
    for (const [e, deliveries] of [[a, ofA], [b, ofB]] as const) {
      const received = at(e.path);
      assert.equal(received.length, deliveries.length);
      assert.deepEqual(new Set(received.map((r) => r.json.id)), new Set(deliveries.map((d) => d.event_id)));
      for (const r of received) assert.ok(mine(e).has(r.json.data.id), `${e.path} got an event about ${r.json.data.id} (${r.json.type})`);
    }
    const idsOfA = new Set(ofA.map((d) => d.event_id));
    assert.ok(ofB.every((d) => !idsOfA.has(d.event_id)));
    assert.equal(hook.received.filter((r) => r.path === '/stolen').length, 0);
  });
});
