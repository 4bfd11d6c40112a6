/**
 * Delivery over real HTTP to a receiver on 127.0.0.1, by a worker of this file's own on a
 * database of its own: signed bodies that an independent Standard Webhooks verifier and the
 * X-GetBill-Signature rule accept, the same event id on every attempt, a receiver that fails,
 * is down or is slow and then recovers, the retry window, disabling, strict order per subject,
 * redelivery, test events, rotation, tenancy, and private destinations refused at delivery.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { waitFor } from '../helpers/processes.js';
import { API, body, type Tenant } from '../helpers/setup.js';
import { deliveryWorker, receiver, webhookClient, webhookSetup, type Received } from '../helpers/webhooks.js';

const ctx = await webhookSetup();
const api = webhookClient(ctx);
// Generous for a busy machine: a delivery that should succeed must not time out, and a retried
// one must fit its attempts in the window (a run looks again no sooner than 2 s after the last).
const TIMEOUT_MS = 5_000;
const WINDOW_MS = 20_000;
// Every host name resolves to 127.0.0.2 for this worker: a private address OUTBOUND_ALLOW (127.0.0.1 here) does not cover.
const worker = await deliveryWorker(ctx, { timeoutMs: TIMEOUT_MS, retryBaseMs: 100, retryWindowMs: WINDOW_MS }, {
  lookup: async () => [{ address: '127.0.0.2', family: 4 }],
});
const hook = await receiver();

/** The deliveries of a subscription, once `done` says they are settled. */
async function deliveriesWhen(tenant: Tenant, id: string, done: (deliveries: any[]) => boolean, what: string, timeoutMs = 20_000): Promise<any[]> {
  let last: any[] = [];
  return waitFor(what, async () => {
    last = body(await api.deliveries(tenant, id, '?limit=100')).data;
    return done(last) ? last : undefined;
  }, timeoutMs, () => JSON.stringify(last, null, 1).slice(0, 3000));
}
const settled = (count: number) => (deliveries: any[]) => deliveries.length === count && deliveries.every((d) => d.status !== 'pending');

/** Both signature schemes, checked as a receiver would: with `secret` alone. */
function verifies(request: Received, secret: string): { standard: boolean; getbill: boolean } {
  let standard = true;
  try {
    new Webhook(secret).verify(request.raw, request.headers as Record<string, string>);
  } catch {
    standard = false;
  }
  const expected = Buffer.from(createHmac('sha256', secret).update(request.raw).digest('hex'));
  const getbill = String(request.headers['x-getbill-signature']).split(',').some((value) => value.length === expected.length && timingSafeEqual(Buffer.from(value), expected));
  return { standard, getbill };
}

/** Requests of the receiver whose path is `path`. */
const at = (path: string) => hook.received.filter((r) => r.path === path);
let paths = 0;
/** A subscription of the tenant to its own path on the receiver. */
async function subscribe(tenant: Tenant, events: string[], extra: Record<string, unknown> = {}) {
  const path = `/hook/${++paths}`;
  const created = await api.created(tenant, { url: `http://127.0.0.1:${hook.port}${path}`, events, ...extra });
  return { ...created, path };
}

describe('delivery of followup events', () => {
  test('a create and an update are delivered, signed both ways, data as GET shows it, changes as the history shows them', async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['followup.created', 'followup.updated', 'followup.completed']);
    const followupId = await tenant.followup(await tenant.debt());
    const update = await ctx.app.inject({
      method: 'PATCH', url: `${API}/followups/${followupId}`, headers: tenant.auth, payload: { status: 'deal_found', call_date: '2024-01-25T10:00:00+01:00' },
    });
    assert.equal(update.statusCode, 200);

    const deliveries = await deliveriesWhen(tenant, sub.id, settled(3), 'three deliveries');
    assert.deepEqual(deliveries.map((d) => [d.event_type, d.status, d.attempts]).reverse(), [
      ['followup.created', 'delivered', 1], ['followup.updated', 'delivered', 1], ['followup.completed', 'delivered', 1],
    ]);
    const received = at(sub.path);
    assert.equal(received.length, 3);
    const current = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${followupId}`, headers: tenant.auth })).data;
    const history = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${followupId}/history?limit=100`, headers: tenant.auth })).data;
    const shown = (field: string) => history.filter((c: { field: string }) => c.field === field).at(-1);
    for (const [i, request] of received.entries()) {
      assert.deepEqual(verifies(request, sub.secret), { standard: true, getbill: true });
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['user-agent'], 'Relance-Webhooks/1');
      assert.equal(request.headers['webhook-id'], request.json.id);
      assert.deepEqual(Object.keys(request.json), i === 0 ? ['id', 'type', 'created_at', 'data'] : ['id', 'type', 'created_at', 'data', 'changes']);
      assert.equal(request.json.id, deliveries.at(-1 - i).event_id);
      assert.match(request.json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      assert.equal(request.json.data.id, followupId);
    }
    assert.equal(received[0]!.json.data.status, 'on_hold');
    assert.deepEqual(received[1]!.json.data, current);
    assert.deepEqual(received[1]!.json.changes, {
      status: { from: shown('status').from, to: shown('status').to },
      call_date: { from: null, to: '2024-01-25T09:00:00+00:00' },
    });
    assert.equal(shown('call_date').to, '2024-01-25T09:00:00+00:00');
    // The two events of one change are two deliveries, with two ids.
    assert.notEqual(received[1]!.json.id, received[2]!.json.id);
    // A tampered body verifies under neither scheme.
    assert.deepEqual(verifies({ ...received[1]!, raw: received[1]!.raw.replace('deal_found', 'deal_not_found') }, sub.secret), { standard: false, getbill: false });
    assert.deepEqual(verifies(received[1]!, `whsec_${Buffer.alloc(32, 7).toString('base64')}`), { standard: false, getbill: false });
  });

  test("another company's events never reach a subscription", async () => {
    const a = await ctx.tenant();
    const b = await ctx.tenant();
    const subA = await subscribe(a, ['followup.created']);
    const subB = await subscribe(b, ['followup.created']);
    const ofB = await b.followup(await b.debt());
    await deliveriesWhen(b, subB.id, settled(1), "B's delivery");
    assert.equal(at(subB.path).length, 1);
    assert.equal(at(subA.path).length, 0);
    assert.equal(body(await api.deliveries(a, subA.id)).pagination.total, 0);
  });
});

describe('a receiver that fails, then recovers', () => {
  test('500 twice then 200: delivered, every attempt logged, one event id and one body throughout', async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['followup.created']);
    let calls = 0;
    hook.behave((request, response) => {
      if (request.path === sub.path && ++calls <= 2) {
        response.statusCode = 500;
        response.end('try later');
      } else {
        response.end('ok');
      }
    });
    const followupId = await tenant.followup(await tenant.debt());
    const [delivery] = await deliveriesWhen(tenant, sub.id, settled(1), 'the delivery');
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.attempts, 3);
    assert.deepEqual(delivery.attempt_log.map((a: any) => [a.status_code, a.error]), [
      [500, `127.0.0.1:${hook.port} answered HTTP 500`], [500, `127.0.0.1:${hook.port} answered HTTP 500`], [200, null],
    ]);
    assert.equal(delivery.last_status_code, 200);
    assert.equal(delivery.last_error, null);
    assert.equal(delivery.next_attempt_at, null);
    assert.ok(delivery.delivered_at);
    const received = at(sub.path);
    assert.equal(received.length, 3);
    assert.equal(new Set(received.map((r) => r.headers['webhook-id'])).size, 1);
    assert.equal(new Set(received.map((r) => r.raw)).size, 1);
    assert.equal(received[0]!.headers['webhook-id'], delivery.event_id);
    for (const request of received) assert.deepEqual(verifies(request, sub.secret), { standard: true, getbill: true });
    assert.equal(body(await api.get(tenant, sub.id)).data.failing_since, null, 'the success cleared failing_since');
  });

  test('down, then up again on the same port: delivered', async () => {
    const tenant = await ctx.tenant();
    const down = await receiver();
    const port = down.port;
    await down.close();
    const sub = await api.created(tenant, { url: `http://127.0.0.1:${port}/down`, events: ['followup.created'] });
    const followupId = await tenant.followup(await tenant.debt());
    const failed = await deliveriesWhen(tenant, sub.id, (d) => d[0]?.attempts >= 2, 'two refused attempts');
    assert.equal(failed[0].status, 'pending');
    assert.equal(failed[0].attempt_log[0].error, `127.0.0.1:${port} refused the connection`);
    assert.equal(failed[0].attempt_log[0].status_code, null);
    assert.ok(body(await api.get(tenant, sub.id)).data.failing_since, 'failing since the first failure');
    const { createServer } = await import('node:http');
    const got: string[] = [];
    const up = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk) => { raw += chunk; });
      request.on('end', () => { got.push(raw); response.end(); });
    });
    await new Promise<void>((resolve) => up.listen(port, '127.0.0.1', resolve));
    try {
      const [delivery] = await deliveriesWhen(tenant, sub.id, settled(1), 'the delivery once up');
      assert.equal(delivery.status, 'delivered');
      assert.equal(delivery.attempt_log.length, delivery.attempts);
      assert.ok(delivery.attempts >= 3);
      assert.equal(got.length, 1);
      assert.equal(JSON.parse(got[0]!).id, delivery.event_id);
    } finally {
      up.closeAllConnections();
      await new Promise<void>((resolve) => up.close(() => resolve()));
    }
  });

  test('slower than the timeout, then answering: the slow attempt is a timeout in the log', async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['followup.created']);
    let calls = 0;
    hook.behave((request, response) => {
      if (request.path === sub.path && ++calls === 1) setTimeout(() => response.end('late'), TIMEOUT_MS + 2_000);
      else response.end('ok');
    });
    const followupId = await tenant.followup(await tenant.debt());
    const [delivery] = await deliveriesWhen(tenant, sub.id, settled(1), 'the delivery', TIMEOUT_MS + 30_000);
    assert.equal(delivery.status, 'delivered');
    assert.deepEqual(delivery.attempt_log.map((a: any) => [a.status_code, a.error]), [
      [null, `127.0.0.1:${hook.port} did not answer in full within ${TIMEOUT_MS} ms`], [200, null],
    ]);
    assert.equal(new Set(at(sub.path).map((r) => r.json.id)).size, 1);
    assert.ok(worker.outcomes.includes('timeout'));
  });

  test('failing past the retry window: failed, with every attempt logged', async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['followup.created']);
    hook.behave((request, response) => {
      response.statusCode = request.path === sub.path ? 503 : 200;
      response.end();
    });
    const followupId = await tenant.followup(await tenant.debt());
    const [delivery] = await deliveriesWhen(tenant, sub.id, settled(1), 'the failed delivery', WINDOW_MS + 20_000);
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.next_attempt_at, null);
    assert.equal(delivery.delivered_at, null);
    assert.ok(delivery.attempts >= 2, `${delivery.attempts} attempts`);
    assert.equal(delivery.attempt_log.length, delivery.attempts);
    assert.ok(delivery.attempt_log.every((a: any) => a.status_code === 503));
    assert.equal(at(sub.path).length, delivery.attempts);
    // The last attempt came after the window: the delivery's age, measured on the database's own clock.
    const { rows } = await ctx.pool.query<{ age: number }>(
      'SELECT extract(epoch FROM last_attempt_at - created_at) * 1000 AS age FROM webhook_deliveries WHERE id = $1',
      [ctx.ids.decode('webhook_delivery', delivery.id)],
    );
    assert.ok(rows[0]!.age >= WINDOW_MS, `last attempt ${rows[0]!.age} ms after creation`);
    assert.equal(body(await api.deliveries(tenant, sub.id, '?status=failed')).pagination.total, 1);
    hook.behave((_request, response) => response.end('ok'));
  });

  test('failing for longer than WEBHOOK_DISABLE_AFTER_DAYS: disabled with a reason; nothing is sent until re-enabled', async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['followup.created']);
    let failing = true;
    hook.behave((request, response) => {
      response.statusCode = request.path === sub.path && failing ? 500 : 200;
      response.end();
    });
    // Failing for four days already (the default limit is three).
    await ctx.pool.query("UPDATE webhook_subscriptions SET failing_since = now() - interval '4 days' WHERE id = $1", [ctx.ids.decode('webhook', sub.id)]);
    const followupId = await tenant.followup(await tenant.debt());
    const disabled = await waitFor('the subscription disabled', async () => {
      const data = body(await api.get(tenant, sub.id)).data;
      return data.status === 'disabled' ? data : undefined;
    }, 20_000);
    assert.match(disabled.disabled_reason, /^Disabled on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00: every delivery attempt failed since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00; the last error: 127\.0\.0\.1:\d+ answered HTTP 500$/);
    assert.ok(disabled.disabled_reason.includes(disabled.failing_since), 'the reason names the date failures began');
    const [pending] = body(await api.deliveries(tenant, sub.id)).data;
    assert.equal(pending.status, 'pending');
    failing = false;
    const sent = at(sub.path).length;
    // The sweep looks for due deliveries of active subscriptions only.
    await ctx.pool.query("SELECT graphile_worker.add_job('sweep_webhooks')");
    await ctx.pool.query("SELECT graphile_worker.add_job('deliver_webhooks', json_build_object('subscription_id', $1::bigint))", [ctx.ids.decode('webhook', sub.id)]);
    await waitFor('the woken jobs to run', async () => {
      const { rows } = await ctx.pool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier IN ('sweep_webhooks', 'deliver_webhooks') AND run_at <= now()");
      return rows[0].n === 0 ? true : undefined;
    }, 20_000);
    assert.equal(at(sub.path).length, sent, 'nothing sent to a disabled subscription');
    const enabled = body(await api.patch(tenant, sub.id, { status: 'active' })).data;
    assert.equal(enabled.failing_since, null);
    const [delivery] = await deliveriesWhen(tenant, sub.id, settled(1), 'the delivery after re-enabling');
    assert.equal(delivery.status, 'delivered');
  });
});

describe('order, redelivery, tests, rotation, refusals', () => {
  test("one subject's events go out in order, each after the one before it succeeded; other subjects go on meanwhile", async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['followup.created', 'followup.updated']);
    // The first followup created is the first one whose events reach the receiver: its first
    // event fails three times before it goes through.
    let first: string | undefined;
    let failures = 0;
    hook.behave((request, response) => {
      if (request.path === sub.path && request.json.type === 'followup.created') first ??= request.json.data.id;
      if (request.path === sub.path && request.json.data.id === first && request.json.type === 'followup.created' && ++failures <= 3) response.statusCode = 500;
      response.end();
    });
    const debt = await tenant.debt();
    const created = await tenant.followup(debt);
    const second = await tenant.followup(debt);
    for (const notes of ['a', 'b']) {
      const update = await ctx.app.inject({ method: 'PATCH', url: `${API}/followups/${created}`, headers: tenant.auth, payload: { notes } });
      assert.equal(update.statusCode, 200);
    }
    const deliveries = body(await api.deliveries(tenant, sub.id, '?limit=100')).data.reverse();
    const headOfFirst = deliveries[0].event_id;
    const updates = deliveries.filter((d: any) => d.event_type === 'followup.updated').map((d: any) => d.event_id);
    await deliveriesWhen(tenant, sub.id, settled(4), 'four deliveries');
    const received = at(sub.path);
    const ofFirst = received.filter((r) => r.json.data.id === first);
    assert.equal(first, created);
    assert.deepEqual(ofFirst.map((r) => r.json.id), [headOfFirst, headOfFirst, headOfFirst, headOfFirst, ...updates]);
    assert.deepEqual(ofFirst.slice(4).map((r) => r.json.changes.notes.to), ['a', 'b']);
    const secondAt = received.findIndex((r) => r.json.data.id === second);
    const firstDelivered = received.findIndex((r, i) => r.json.id === headOfFirst && i === received.map((x) => x.json.id).lastIndexOf(headOfFirst));
    assert.ok(secondAt < firstDelivered, 'the other followup was delivered while the first one\'s head kept failing');
    hook.behave((_request, response) => response.end('ok'));
  });

  test('the test endpoint sends a webhook.test event to this subscription only; redelivery sends it again, same id', async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['debt.created']);
    const other = await subscribe(tenant, ['debt.created']);
    const queued = await api.test(tenant, sub.id);
    assert.equal(queued.statusCode, 202);
    assert.equal(body(queued).message, 'Test event sent');
    const [delivered] = await deliveriesWhen(tenant, sub.id, settled(1), 'the test delivery');
    assert.equal(delivered.status, 'delivered');
    const [request] = at(sub.path);
    assert.deepEqual(request!.json.data, { webhook_id: sub.id, message: 'This is a test event sent from Relance' });
    assert.equal(request!.json.type, 'webhook.test');
    assert.deepEqual(verifies(request!, sub.secret), { standard: true, getbill: true });
    assert.equal(at(other.path).length, 0);

    const retried = await api.retry(tenant, sub.id, delivered.id);
    assert.equal(retried.statusCode, 202);
    assert.equal(body(retried).data.status, 'pending');
    const again = await deliveriesWhen(tenant, sub.id, (d) => d[0]?.status === 'delivered' && d[0]?.attempts === 2, 'the redelivery');
    assert.equal(again[0].attempt_log.length, 2);
    const requests = at(sub.path);
    assert.equal(requests.length, 2);
    assert.equal(requests[1]!.headers['webhook-id'], requests[0]!.headers['webhook-id']);
    assert.equal(requests[1]!.raw, requests[0]!.raw);
    assert.deepEqual(verifies(requests[1]!, sub.secret), { standard: true, getbill: true });
  });

  test('during a rotation both secrets sign (newest first); after it, only the new one', async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['debt.created']);
    const rotated = body(await api.rotate(tenant, sub.id, { overlap_seconds: 3600 })).data.secret;
    await api.test(tenant, sub.id);
    await deliveriesWhen(tenant, sub.id, settled(1), 'the delivery during the overlap');
    const [during] = at(sub.path);
    assert.deepEqual(verifies(during!, sub.secret), { standard: true, getbill: true });
    assert.deepEqual(verifies(during!, rotated), { standard: true, getbill: true });
    const getbill = String(during!.headers['x-getbill-signature']).split(',');
    assert.deepEqual(getbill, [rotated, sub.secret].map((s) => createHmac('sha256', s).update(during!.raw).digest('hex')));
    assert.equal(String(during!.headers['webhook-signature']).split(' ').length, 2);
    assert.ok(String(during!.headers['webhook-signature']).startsWith(new Webhook(rotated).sign(during!.json.id, new Date(Number(during!.headers['webhook-timestamp']) * 1000), during!.raw)));

    const latest = body(await api.rotate(tenant, sub.id, { overlap_seconds: 0 })).data.secret;
    await api.test(tenant, sub.id);
    await deliveriesWhen(tenant, sub.id, settled(2), 'the delivery after the overlap');
    const after = at(sub.path)[1]!;
    assert.deepEqual(verifies(after, latest), { standard: true, getbill: true });
    assert.deepEqual(verifies(after, rotated), { standard: false, getbill: false });
    assert.deepEqual(verifies(after, sub.secret), { standard: false, getbill: false });
  });

  test('a host resolving to a private address is refused at delivery: blocked, recorded, nothing sent', async () => {
    const tenant = await ctx.tenant();
    const sub = await api.created(tenant, { url: `http://receiver.example.test:${hook.port}/private`, events: ['debt.created'] });
    await api.test(tenant, sub.id);
    const [delivery] = await deliveriesWhen(tenant, sub.id, (d) => d[0]?.attempts >= 1, 'a refused attempt');
    assert.equal(delivery.status, 'pending');
    assert.equal(delivery.attempt_log[0].status_code, null);
    assert.equal(delivery.attempt_log[0].error, `receiver.example.test:${hook.port} resolves to a private, loopback or reserved address: Relance does not connect there`);
    assert.equal(at('/private').length, 0);
    assert.ok(worker.outcomes.includes('blocked'));
    await api.delete(tenant, sub.id);
  });

  test('a redirect is not followed: an attempt that failed with its status', async () => {
    const tenant = await ctx.tenant();
    const sub = await subscribe(tenant, ['debt.created']);
    hook.behave((request, response) => {
      if (request.path === sub.path) response.writeHead(302, { location: `http://127.0.0.1:${hook.port}/elsewhere` });
      response.end();
    });
    await api.test(tenant, sub.id);
    const [delivery] = await deliveriesWhen(tenant, sub.id, (d) => d[0]?.attempts >= 1, 'the redirected attempt');
    assert.equal(delivery.attempt_log[0].status_code, 302);
    assert.equal(delivery.attempt_log[0].error, `127.0.0.1:${hook.port} answered HTTP 302 (a redirect): deliveries do not follow redirects`);
    assert.equal(at('/elsewhere').length, 0);
    await api.delete(tenant, sub.id);
    hook.behave((_request, response) => response.end('ok'));
  });
});
