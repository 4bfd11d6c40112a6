/**
 * The subscription API: create (the secret shown once, sealed in the database), read, list,
 * change, delete, rotate, every validation message, and the security cases of every endpoint.
 * No worker runs here: what is delivered is test/webhooks/delivery.test.ts's business.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { WEBHOOK_EVENTS } from '../../src/webhooks/events.js';
import { securityCases } from '../helpers/security.js';
import { body, setup } from '../helpers/setup.js';
import { webhookClient, webhookSetup } from '../helpers/webhooks.js';

const ctx = await webhookSetup();
const api = webhookClient(ctx);
const HOOK = { url: 'https://hooks.example.com/relance', events: ['followup.created', 'followup.completed'] };

describe('POST /webhooks', () => {
  test('creates a subscription: 201 with the generated secret, events without duplicates', async () => {
    const tenant = await ctx.tenant();
    const response = await api.create(tenant, { ...HOOK, events: ['followup.created', 'followup.created', 'debt.deleted'], description: 'CRM sync' });
    assert.equal(response.statusCode, 201, response.body);
    const { message, data } = body(response);
    assert.equal(message, 'Webhook created successfully');
    assert.match(data.id, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(data.events, ['followup.created', 'debt.deleted']);
    assert.equal(data.url, HOOK.url);
    assert.equal(data.description, 'CRM sync');
    assert.equal(data.status, 'active');
    assert.equal(data.disabled_reason, null);
    assert.equal(data.failing_since, null);
    assert.match(data.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(data.secret.slice(6), 'base64').length, 32);
    assert.match(data.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  });

  test('the secret is shown only at creation, and the database holds it sealed', async () => {
    const tenant = await ctx.tenant();
    const { id, secret } = await api.created(tenant, HOOK);
    const got = body(await api.get(tenant, id)).data;
    assert.equal('secret' in got, false);
    assert.equal(JSON.stringify(body(await api.list(tenant))).includes(secret), false);
    const { rows } = await ctx.pool.query('SELECT * FROM webhook_subscriptions WHERE id = $1', [ctx.ids.decode('webhook', id)]);
    const stored = rows[0];
    const key = Buffer.from(secret.slice(6), 'base64');
    for (const [column, value] of Object.entries(stored)) {
      const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
      assert.equal(bytes.includes(secret), false, column);
      assert.equal(bytes.includes(key), false, column);
      assert.equal(bytes.includes(secret.slice(6)), false, column);
    }
    // Two subscriptions with one chosen secret are sealed differently (a fresh IV each).
    const chosen = `whsec_${randomBytes(32).toString('base64')}`;
    const a = await api.created(tenant, { ...HOOK, secret: chosen });
    const b = await api.created(tenant, { ...HOOK, secret: chosen });
    assert.equal(a.secret, chosen);
    const sealed = await ctx.pool.query<{ secret: Buffer }>('SELECT secret FROM webhook_subscriptions WHERE id = ANY($1) ORDER BY id', [[a.id, b.id].map((x) => ctx.ids.decode('webhook', x))]);
    assert.notDeepEqual(sealed.rows[0]!.secret, sealed.rows[1]!.secret);
  });

  test('every bad field is named at once', async () => {
    const tenant = await ctx.tenant();
    const cases: [unknown, Record<string, string>][] = [
      [{}, { url: 'url is required', events: 'events is required' }],
      [{ url: 'ftp://hooks.example.com/x', events: [] }, {
        url: 'url must be an absolute https URL of at most 2048 characters',
        events: `events must be a non-empty list of event types among: ${WEBHOOK_EVENTS.join(', ')}`,
      }],
      [{ url: `https://hooks.example.com/${'a'.repeat(2048)}`, events: ['followup.nope'] }, {
        url: 'url must be an absolute https URL of at most 2048 characters',
        events: `events must be a non-empty list of event types among: ${WEBHOOK_EVENTS.join(', ')}`,
      }],
      [{ url: 'https://user:pw@hooks.example.com/x', events: ['debt.created'] }, { url: 'url must not carry a user name or password' }],
      [{ url: 'https://10.1.2.3/x', events: ['debt.created'] }, { url: 'url must not point to a private, loopback or reserved address' }],
      [{ url: 'https://[::1]:8443/x', events: ['debt.created'] }, { url: 'url must not point to a private, loopback or reserved address' }],
      [{ url: 'https://169.254.169.254/latest', events: ['debt.created'] }, { url: 'url must not point to a private, loopback or reserved address' }],
      [{ ...HOOK, description: 'x'.repeat(501), secret: 'hunter2' }, {
        description: 'description must be a string of at most 500 characters',
        secret: 'secret must be "whsec_" followed by the standard base64 of 32 to 128 random bytes',
      }],
      [{ ...HOOK, secret: `whsec_${randomBytes(16).toString('base64')}` }, { secret: 'secret must be "whsec_" followed by the standard base64 of 32 to 128 random bytes' }],
      // URL-safe characters, and spare bits set (a second spelling of the same bytes).
      [{ ...HOOK, secret: `whsec_${'A-'.repeat(22)}` }, { secret: 'secret must be "whsec_" followed by the standard base64 of 32 to 128 random bytes' }],
      [{ ...HOOK, secret: `whsec_${'A'.repeat(42)}B=` }, { secret: 'secret must be "whsec_" followed by the standard base64 of 32 to 128 random bytes' }],
      [{ ...HOOK, secret: 42, events: 'followup.created' }, {
        secret: 'secret must be a string starting with whsec_',
        events: `events must be a non-empty list of event types among: ${WEBHOOK_EVENTS.join(', ')}`,
      }],
    ];
    for (const [payload, details] of cases) {
      const response = await api.create(tenant, payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload).slice(0, 200));
      assert.deepEqual(body(response), { error: true, message: 'Validation failed', code: 400, details }, JSON.stringify(payload).slice(0, 200));
    }
    assert.equal(body(await api.list(tenant)).pagination.total, 0);
  });

  test('plain http and loopback only where the server allows them (WEBHOOK_ALLOW_HTTP, OUTBOUND_ALLOW)', async () => {
    const strict = await setup({ databaseUrl: ctx.url });
    const refused = await webhookClient(strict).create(await strict.tenant(), { ...HOOK, url: 'http://hooks.example.com/x', description: 5 });
    assert.deepEqual(body(refused).details, { url: 'url must be an https URL', description: 'description must be a string of at most 500 characters' });
    assert.equal(body(await webhookClient(strict).create(await strict.tenant(), { ...HOOK, url: 'https://127.0.0.1/x' })).details.url,
      'url must not point to a private, loopback or reserved address');
    const tenant = await ctx.tenant();
    // This file's app allows http and 127.0.0.1 (as the delivery tests need), not 10.0.0.0/8.
    assert.equal((await api.create(tenant, { ...HOOK, url: 'http://127.0.0.1:9/hook' })).statusCode, 201);
    assert.equal(body(await api.create(tenant, { ...HOOK, url: 'http://10.0.0.1/hook' })).details.url, 'url must not point to a private, loopback or reserved address');
  });
});

describe('GET, PATCH, DELETE /webhooks/{id} and the list', () => {
  test('lists the company\'s own subscriptions, oldest first, by page', async () => {
    const tenant = await ctx.tenant();
    const other = await ctx.tenant();
    await api.created(other, HOOK);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await api.created(tenant, { ...HOOK, description: `n${i}` })).id);
    const first = body(await api.list(tenant, '?limit=2'));
    assert.deepEqual(first.data.map((w: { id: string }) => w.id), ids.slice(0, 2));
    assert.deepEqual(first.pagination, { total: 3, page: 1, limit: 2, pages: 2 });
    assert.deepEqual(body(await api.list(tenant, '?limit=2&page=2')).data.map((w: { id: string }) => w.id), ids.slice(2));
    assert.deepEqual(body(await api.list(tenant, '?limit=0&page=x')).details, { page: 'page must be an integer from 1 to 9007199254740991', limit: 'limit must be an integer from 1 to 100' });
  });

  test('PATCH changes only the fields sent; disabling and re-enabling', async () => {
    const tenant = await ctx.tenant();
    const { id } = await api.created(tenant, { ...HOOK, description: 'first' });
    const changed = await api.patch(tenant, id, { events: ['payment.received', 'payment.received'], url: 'https://other.example.com/h' });
    assert.equal(changed.statusCode, 200, changed.body);
    const data = body(changed).data;
    assert.deepEqual(data.events, ['payment.received']);
    assert.equal(data.url, 'https://other.example.com/h');
    assert.equal(data.description, 'first');
    assert.equal(body(await api.patch(tenant, id, { description: null })).data.description, null);
    assert.equal(body(await api.patch(tenant, id, { status: 'disabled' })).data.status, 'disabled');
    // A subscription disabled for failing: re-enabling forgets the reason and the failing time.
    await ctx.pool.query(
      "UPDATE webhook_subscriptions SET disabled_reason = 'failing', failing_since = now() - interval '4 days' WHERE id = $1",
      [ctx.ids.decode('webhook', id)],
    );
    const enabled = body(await api.patch(tenant, id, { status: 'active' })).data;
    assert.equal(enabled.status, 'active');
    assert.equal(enabled.disabled_reason, null);
    assert.equal(enabled.failing_since, null);
    assert.deepEqual(body(await api.get(tenant, id)).data, enabled);
  });

  test('PATCH validation: every bad field at once, nothing changed', async () => {
    const tenant = await ctx.tenant();
    const { id } = await api.created(tenant, HOOK);
    const before = body(await api.get(tenant, id)).data;
    const response = await api.patch(tenant, id, { url: 'https://192.168.1.1/x', events: [], status: 'paused', description: 5 });
    assert.deepEqual(body(response), {
      error: true, message: 'Validation failed', code: 400,
      details: {
        events: `events must be a non-empty list of event types among: ${WEBHOOK_EVENTS.join(', ')}`,
        description: 'description must be a string of at most 500 characters',
        status: 'status must be active or disabled',
        url: 'url must not point to a private, loopback or reserved address',
      },
    });
    assert.deepEqual(body(await api.get(tenant, id)).data, before);
  });

  test('DELETE removes it, with its deliveries; it is then unknown', async () => {
    const tenant = await ctx.tenant();
    const { id } = await api.created(tenant, HOOK);
    assert.equal((await api.test(tenant, id)).statusCode, 202);
    const response = await api.delete(tenant, id);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(body(response), { error: false, message: 'Webhook deleted successfully', data: { id } });
    assert.equal((await api.get(tenant, id)).statusCode, 404);
    assert.equal((await api.delete(tenant, id)).statusCode, 404);
    const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1', [ctx.ids.decode('webhook', id)]);
    assert.equal(rows[0].n, 0);
  });
});

describe('POST /webhooks/{id}/rotate-secret', () => {
  test('a new secret, shown once; the old one is kept, sealed, until the overlap ends', async () => {
    const tenant = await ctx.tenant();
    const { id, secret } = await api.created(tenant, HOOK);
    const rotated = await api.rotate(tenant, id, { overlap_seconds: 3600 });
    assert.equal(rotated.statusCode, 200, rotated.body);
    const data = body(rotated).data;
    assert.match(data.secret, /^whsec_/);
    assert.notEqual(data.secret, secret);
    const ends = Date.parse(data.previous_secret_expires_at);
    assert.ok(Math.abs(ends - Date.now() - 3600_000) < 60_000, data.previous_secret_expires_at);
    assert.equal('secret' in body(await api.get(tenant, id)).data, false);
    // Without a body: the default overlap of a day; with 0: none.
    assert.ok(Math.abs(Date.parse(body(await api.rotate(tenant, id)).data.previous_secret_expires_at) - Date.now() - 86_400_000) < 60_000);
    assert.equal(body(await api.rotate(tenant, id, { overlap_seconds: 0 })).data.previous_secret_expires_at, null);
    const { rows } = await ctx.pool.query('SELECT previous_secret FROM webhook_subscriptions WHERE id = $1', [ctx.ids.decode('webhook', id)]);
    assert.equal(rows[0].previous_secret, null);
  });

  test('overlap_seconds must be an integer from 0 to 604800', async () => {
    const tenant = await ctx.tenant();
    const { id } = await api.created(tenant, HOOK);
    for (const overlap of [-1, 604801, 1.5, '60']) {
      assert.deepEqual(body(await api.rotate(tenant, id, { overlap_seconds: overlap })).details, { overlap_seconds: 'overlap_seconds must be an integer from 0 to 604800' });
    }
  });
});

describe('deliveries of a subscription', () => {
  test('an unknown delivery, or one of another subscription, is a 404; a bad status filter a 400', async () => {
    const tenant = await ctx.tenant();
    const a = await api.created(tenant, HOOK);
    const b = await api.created(tenant, HOOK);
    const delivery = body(await api.test(tenant, a.id)).data;
    assert.equal(delivery.event_type, 'webhook.test');
    assert.equal(delivery.status, 'pending');
    assert.equal((await api.delivery(tenant, a.id, delivery.id)).statusCode, 200);
    for (const [hook, id] of [[b.id, delivery.id], [a.id, ctx.ids.encode('webhook_delivery', 2 ** 40)], [a.id, ctx.ids.encode('webhook_event', 1)], [a.id, 'garbage']]) {
      for (const response of [await api.delivery(tenant, hook!, id!), await api.retry(tenant, hook!, id!)]) {
        assert.deepEqual(body(response), { error: true, message: 'Webhook delivery not found', code: 404 });
      }
    }
    assert.deepEqual(body(await api.deliveries(tenant, a.id, '?status=lost')).details, { status: 'status must be one of pending, delivered, failed' });
    assert.equal(body(await api.deliveries(tenant, a.id, '?status=pending')).pagination.total, 1);
    assert.equal(body(await api.deliveries(tenant, a.id, '?status=failed')).pagination.total, 0);
    assert.equal(body(await api.deliveries(tenant, b.id)).pagination.total, 0);
  });

  test('a disabled subscription takes no test event and no redelivery: 409', async () => {
    const tenant = await ctx.tenant();
    const { id } = await api.created(tenant, HOOK);
    const delivery = body(await api.test(tenant, id)).data;
    await api.patch(tenant, id, { status: 'disabled' });
    for (const response of [await api.test(tenant, id), await api.retry(tenant, id, delivery.id)]) {
      assert.equal(response.statusCode, 409);
      assert.equal(body(response).message, 'The webhook is disabled: re-enable it (PATCH with status "active") before sending to it');
    }
    assert.equal(body(await api.deliveries(tenant, id)).pagination.total, 1);
  });
});

const someDelivery = ctx.ids.encode('webhook_delivery', 1);
securityCases(ctx, 'webhooks', {
  kinds: {
    webhook: {
      make: async (owner) => (await api.created(owner, HOOK)).id,
      read: async (owner, id) => ({ hook: body(await api.get(owner, id)).data, deliveries: body(await api.deliveries(owner, id)).pagination }),
    },
  },
  endpoints: [
    { method: 'POST', path: '/webhooks', scope: 'webhooks:write', payload: () => HOOK },
    { method: 'GET', path: '/webhooks', scope: 'webhooks:read' },
    { method: 'GET', path: '/webhooks/:id', scope: 'webhooks:read' },
    { method: 'PATCH', path: '/webhooks/:id', scope: 'webhooks:write', payload: () => ({ url: 'https://evil.example.com/x', status: 'disabled' }) },
    { method: 'DELETE', path: '/webhooks/:id', scope: 'webhooks:write' },
    { method: 'POST', path: '/webhooks/:id/rotate-secret', scope: 'webhooks:write', payload: () => ({ overlap_seconds: 0 }) },
    { method: 'POST', path: '/webhooks/:id/test', scope: 'webhooks:write' },
    { method: 'GET', path: '/webhooks/:id/deliveries', scope: 'webhooks:read' },
    { method: 'GET', path: `/webhooks/:id/deliveries/${someDelivery}`, scope: 'webhooks:read' },
    { method: 'POST', path: `/webhooks/:id/deliveries/${someDelivery}/retry`, scope: 'webhooks:write' },
  ],
});
