import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { transaction } from '../../src/db/pool.js';
import { WEBHOOK_EVENTS } from '../../src/webhooks/events.js';
import { emitEvents } from '../../src/webhooks/outbox.js';
import { paymentClient } from '../helpers/payments.js';
import { API, body, setup, type Tenant } from '../helpers/setup.js';
import { HUMAN_UA, trackingClient } from '../helpers/tracking.js';

// The outbox: every change writes the events its company's subscriptions want, in the change's
// own statement or transaction. Delivery is tested in the other files of this folder; here the
// rows are read back, so nothing depends on a worker.
const ctx = await setup();
const payments = paymentClient(ctx);
const tracking = trackingClient(ctx);

/** A subscription row of the company (the API's own tests cover creating them through HTTP). */
async function subscribe(companyId: number, events: readonly string[] = WEBHOOK_EVENTS): Promise<number> {
  const { rows } = await ctx.pool.query<{ id: number }>(
    `INSERT INTO webhook_subscriptions (company_id, url, events, secret) VALUES ($1, 'https://receiver.invalid/hook', $2, $3) RETURNING id`,
    [companyId, events, randomBytes(48)],
  );
  return rows[0]!.id;
}

interface EventRow { id: number; type: string; subject_type: string; subject_id: number; snapshot: any; changes: any; deliveries: number[] }

/** The company's events, oldest first, each with the subscriptions it is delivered to. */
async function events(companyId: number): Promise<EventRow[]> {
  const { rows } = await ctx.pool.query<EventRow>(
    `SELECT e.id, e.type, e.subject_type, e.subject_id, e.snapshot, e.changes,
            coalesce(array_agg(d.subscription_id::int ORDER BY d.subscription_id) FILTER (WHERE d.id IS NOT NULL), '{}') AS deliveries
     FROM webhook_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id
     WHERE e.company_id = $1 GROUP BY e.id ORDER BY e.id`,
    [companyId],
  );
  return rows;
}

const types = async (companyId: number) => (await events(companyId)).map((e) => e.type);

const json = (tenant: Tenant, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => ctx.app.inject({
  method, url: `${API}${url}`, headers: { ...tenant.auth, ...(payload !== undefined && { 'content-type': 'application/json' }) },
  ...(payload !== undefined && { payload: JSON.stringify(payload) }),
});

describe('webhook outbox', () => {
  test('a company without subscriptions writes no events', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    assert.equal((await json(tenant, 'PATCH', `/followups/${id}`, { status: 'deal_found' })).statusCode, 200);
    assert.deepEqual(await events(tenant.companyId), []);
  });

  test('a followup create and its updates write created, updated, completed and failed with the changes', async () => {
    const tenant = await ctx.tenant();
    const subscription = await subscribe(tenant.companyId);
    const debt = await tenant.debt();
    const id = await tenant.followup(debt);
    const internal = ctx.ids.decode('followup', id)!;

    await json(tenant, 'PATCH', `/followups/${id}`, { summary: 'Left a message' });
    await json(tenant, 'PATCH', `/followups/${id}`, { summary: 'Left a message' }); // nothing changes: no event
    await json(tenant, 'PATCH', `/followups/${id}`, { status: 'deal_found', notes: 'Will pay Friday' });
    await json(tenant, 'PATCH', `/followups/${id}`, { status: 'failed' });

    const written = (await events(tenant.companyId)).filter((e) => e.subject_type === 'followup');
    assert.deepEqual(written.map((e) => e.type), [
      'followup.created', 'followup.updated', 'followup.updated', 'followup.completed', 'followup.updated', 'followup.failed',
    ]);
    for (const event of written) {
      assert.equal(event.subject_id, internal);
      assert.equal(event.snapshot.id, internal);
      assert.deepEqual(event.deliveries, [subscription]);
    }
    assert.equal(written[0]!.changes, null);
    assert.equal(written[0]!.snapshot.status, 'on_hold');
    assert.deepEqual(written[1]!.changes, { summary: { from: null, to: 'Left a message' } });
    assert.deepEqual(written[2]!.changes, { status: { from: 'on_hold', to: 'deal_found' }, notes: { from: null, to: 'Will pay Friday' } });
    assert.deepEqual(written[3]!.changes, written[2]!.changes);
    assert.equal(written[3]!.snapshot.status, 'deal_found');
    assert.deepEqual(written[5]!.changes, { status: { from: 'deal_found', to: 'failed' } });
  });

  test('a followup created in a final status is created and completed at once', async () => {
    const tenant = await ctx.tenant();
    await subscribe(tenant.companyId);
    const response = await json(tenant, 'POST', '/followups', { debt_id: await tenant.debt(), status: 'no_answer' });
    assert.equal(response.statusCode, 201);
    assert.deepEqual((await types(tenant.companyId)).filter((t) => t.startsWith('followup.')), ['followup.created', 'followup.completed']);
  });

  test('only the types a subscription wants are written, and only for its own company', async () => {
    const tenant = await ctx.tenant();
    const other = await ctx.tenant();
    const completedOnly = await subscribe(tenant.companyId, ['followup.completed']);
    const othersSubscription = await subscribe(other.companyId);
    const id = await tenant.followup(await tenant.debt());
    await json(tenant, 'PATCH', `/followups/${id}`, { summary: 'no outcome yet' });
    await json(tenant, 'PATCH', `/followups/${id}`, { status: 'bad_behavior' });
    const written = await events(tenant.companyId);
    assert.deepEqual(written.map((e) => [e.type, e.deliveries]), [['followup.completed', [completedOnly]]]);
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1', [othersSubscription]);
    assert.equal(rows[0].n, 0);
  });

  test('a change that fails writes no event', async () => {
    const tenant = await ctx.tenant();
    await subscribe(tenant.companyId);
    const debt = await tenant.debt();
    const first = await json(tenant, 'POST', '/followups', { debt_id: debt, call_id: 'call-1' });
    const second = await json(tenant, 'POST', '/followups', { debt_id: debt, call_id: 'call-2' });
    const before = (await events(tenant.companyId)).length;
    // call_id taken on the debt: 409, nothing written.
    const conflict = await json(tenant, 'PATCH', `/followups/${body(second).data.id}`, { call_id: 'call-1', status: 'deal_found' });
    assert.equal(conflict.statusCode, 409);
    // A payment refused by its rules: 400, nothing written.
    const refused = await payments.create(tenant.auth, { debt_id: debt, amount: '10.001', currency: 'EUR' });
    assert.equal(refused.statusCode, 400);
    assert.equal((await events(tenant.companyId)).length, before);
    assert.ok(body(first).data.id);
  });

  test('events written in a transaction that rolls back leave nothing: no event, no delivery, no job', async () => {
    const tenant = await ctx.tenant();
    const subscription = await subscribe(tenant.companyId);
    const seen = await transaction(ctx.pool, async (tx) => {
      await emitEvents(tx, tenant.companyId, ['debt.created'], { type: 'debt', id: 1 }, { id: 1 });
      const inside = await tx.query<{ events: number; jobs: number }>(
        `SELECT (SELECT count(*)::int FROM webhook_events WHERE company_id = $1) AS events,
                (SELECT count(*)::int FROM graphile_worker._private_jobs WHERE key = $2) AS jobs`,
        [tenant.companyId, `webhooks:${subscription}`],
      );
      return inside.rows[0]!;
    }).then(async (inside) => inside);
    // Inside the transaction the event and the deliverer's job were there...
    assert.deepEqual(seen, { events: 1, jobs: 1 });
    // ...and a rolled-back copy of the same work leaves nothing behind.
    await assert.rejects(transaction(ctx.pool, async (tx) => {
      await emitEvents(tx, tenant.companyId, ['debt.deleted'], { type: 'debt', id: 2 }, { id: 2 });
      throw new Error('rolled back');
    }), /rolled back/);
    assert.deepEqual(await types(tenant.companyId), ['debt.created']);
  });

  test('debts write created, updated (with the changed fields only) and deleted', async () => {
    const tenant = await ctx.tenant();
    await subscribe(tenant.companyId, ['debt.created', 'debt.updated', 'debt.deleted']);
    const debt = await payments.debt(tenant.auth, { city: 'Lyon' });
    await json(tenant, 'PATCH', `/debts/${debt.id}`, { city: 'Lyon', phone: '+33612345678' });
    await json(tenant, 'PATCH', `/debts/${debt.id}`, { city: 'Lyon' });
    assert.equal((await json(tenant, 'DELETE', `/debts/${debt.id}`)).statusCode, 200);
    const written = await events(tenant.companyId);
    assert.deepEqual(written.map((e) => e.type), ['debt.created', 'debt.updated', 'debt.deleted']);
    const internal = ctx.ids.decode('debt', debt.id)!;
    assert.ok(written.every((e) => e.subject_type === 'debt' && e.subject_id === internal && e.snapshot.id === internal));
    assert.equal(written[0]!.snapshot.city, 'Lyon');
    assert.equal(written[0]!.snapshot.amount, '100.00');
    assert.deepEqual(written[1]!.changes, { phone: { from: null, to: '+33612345678' } });
    assert.equal(written[2]!.snapshot.phone, '+33612345678');
  });

  test('a payment writes payment.received, the attributed followup and the debt it settles their updates', async () => {
    const tenant = await ctx.tenant();
    await subscribe(tenant.companyId);
    const debt = await payments.debt(tenant.auth);
    const followup = await tenant.followup(debt.id);
    const payment = await payments.created(tenant.auth, { debt_id: debt.id, amount: '100.00', currency: 'EUR', followup_id: followup });
    const written = await events(tenant.companyId);
    const received = written.filter((e) => e.type === 'payment.received');
    assert.equal(received.length, 1);
    assert.equal(received[0]!.subject_id, ctx.ids.decode('payment', payment.id));
    assert.equal(received[0]!.snapshot.amount, '100.00');
    const updates = written.filter((e) => e.type.endsWith('.updated')).map((e) => [e.type, e.changes]);
    assert.deepEqual(updates, [
      ['followup.updated', { triggered_payment: { from: false, to: true } }],
      ['debt.updated', { status: { from: 'status.default.pending', to: 'status.default.paid' } }],
    ]);
  });

  test('a human open and click write email_opened and email_clicked; a stored recording writes recording_ready', async () => {
    const { tenant, id } = await tracking.emailFollowup('sent');
    await subscribe(tenant.companyId);
    await tracking.visit(await tracking.pixelUrl(tenant.auth, id), HUMAN_UA);
    await tracking.visit(await tracking.linkUrl(tenant.auth, id, 'https://pay.example.com/x'), HUMAN_UA);
    const upload = await ctx.app.inject({
      method: 'PUT', url: `${API}/followups/${id}/audio`, headers: { ...tenant.auth, 'content-type': 'audio/mpeg' }, payload: randomBytes(64),
    });
    assert.equal(upload.statusCode, 200);
    const written = await events(tenant.companyId);
    assert.deepEqual(written.map((e) => e.type), [
      'followup.email_opened', 'followup.updated', 'followup.completed', 'followup.email_clicked', 'followup.updated', 'followup.recording_ready',
    ]);
    assert.equal(written[0]!.snapshot.email_open_count, 1);
    assert.deepEqual(written[1]!.changes, { status: { from: 'sent', to: 'read' } });
    assert.equal(written[3]!.snapshot.email_click_count, 1);
    assert.deepEqual(Object.keys(written[5]!.changes), ['audio']);
    assert.equal(written[5]!.changes.audio.to.content_type, 'audio/mpeg');
  });
});
