import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { body, setup } from '../helpers/setup.js';
import { HUMAN_UA, trackingClient } from '../helpers/tracking.js';

const ctx = await setup();
const followups = followupClient(ctx);
const api = trackingClient(ctx);

const emailFollowup = api.emailFollowup;
const statusHistory = async (auth: { authorization: string }, id: string) =>
  body(await followups.history(auth, id)).data.filter((c: any) => c.field === 'status').map((c: any) => [c.from, c.to, c.source]);

describe('provider events', () => {
  test('delivered, opened, clicked feed the counters and the status, with history source tracking', async () => {
    const { tenant, id } = await emailFollowup();
    const delivered = await api.event(tenant.auth, id, { type: 'delivered', provider_event_id: 'e-1', occurred_at: '2024-01-25T10:00:00+01:00' });
    assert.equal(delivered.statusCode, 201, delivered.body);
    const event = body(delivered);
    assert.equal(event.message, 'Event recorded');
    assert.deepEqual({ ...event.data, id: undefined }, { id: undefined, type: 'delivered', occurred_at: '2024-01-25T09:00:00+00:00', machine: false, user_agent_class: 'provider' });
    assert.equal(body(await followups.get(tenant.auth, id)).data.status, 'delivered');
    assert.equal((await api.event(tenant.auth, id, { type: 'opened', provider_event_id: 'e-2', occurred_at: '2024-01-25T10:05:00Z' })).statusCode, 201);
    const clicked = await api.event(tenant.auth, id, { type: 'clicked', provider_event_id: 'e-3', url: 'https://pay.example.com/x', user_agent: HUMAN_UA });
    assert.equal(body(clicked).data.url, 'https://pay.example.com/x');
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual(
      [data.status, data.email_opened, data.email_open_count, data.email_first_opened_at, data.email_clicked, data.email_click_count],
      ['read', true, 1, '2024-01-25T10:05:00+00:00', true, 1],
    );
    assert.deepEqual(await statusHistory(tenant.auth, id), [[null, 'sent', `api:${tenant.clientId}`], ['sent', 'delivered', 'tracking'], ['delivered', 'read', 'tracking']]);
  });

  test('a repeated provider_event_id returns the first event with 200 and counts nothing, even concurrently', async () => {
    const { tenant, id } = await emailFollowup();
    const first = await api.event(tenant.auth, id, { type: 'opened', provider_event_id: 'dup', occurred_at: '2024-01-25T10:00:00Z' });
    const again = await api.event(tenant.auth, id, { type: 'opened', provider_event_id: 'dup', occurred_at: '2024-02-01T00:00:00Z' });
    assert.equal(again.statusCode, 200);
    assert.equal(body(again).message, 'Event already recorded');
    assert.deepEqual(body(again).data, body(first).data);
    const racing = await Promise.all(Array.from({ length: 10 }, () => api.event(tenant.auth, id, { type: 'clicked', provider_event_id: 'race' })));
    assert.deepEqual(racing.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    assert.equal(new Set(racing.map((r) => body(r).data.id)).size, 1);
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual([data.email_open_count, data.email_click_count], [1, 1]);
    assert.equal(body(await api.events(tenant.auth, id)).pagination.total, 2);
  });

  test('bounced marks the followup failed', async () => {
    const { tenant, id } = await emailFollowup('delivered');
    assert.equal((await api.event(tenant.auth, id, { type: 'bounced', provider_event_id: 'b-1' })).statusCode, 201);
    assert.equal(body(await followups.get(tenant.auth, id)).data.status, 'failed');
    assert.deepEqual((await statusHistory(tenant.auth, id)).at(-1), ['delivered', 'failed', 'tracking']);
  });

  test('delivered leaves a followup that is not sent alone; a machine user agent counts nothing', async () => {
    const { tenant, id } = await emailFollowup('in_progress');
    await api.event(tenant.auth, id, { type: 'delivered', provider_event_id: 'd-1' });
    await api.event(tenant.auth, id, { type: 'opened', provider_event_id: 'o-1', user_agent: 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)' });
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual([data.status, data.email_open_count], ['in_progress', 0]);
    const events = body(await api.events(tenant.auth, id)).data;
    assert.deepEqual(events.map((e: any) => [e.type, e.machine, e.user_agent_class]), [['delivered', false, 'provider'], ['opened', true, 'google_image_proxy']]);
  });

  test('bad bodies: 400 naming each field, never 500', async () => {
    const { tenant, id } = await emailFollowup();
    const response = await api.event(tenant.auth, id, { type: 'spam', provider_event_id: 'x'.repeat(256), occurred_at: 'yesterday', url: 'nope', user_agent: 5 });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(Object.keys(body(response).details).sort(), ['occurred_at', 'provider_event_id', 'type', 'url', 'user_agent']);
    assert.equal(body(response).details.type, 'Invalid event type. Valid types are: delivered, opened, clicked, bounced');
    const missing = await api.event(tenant.auth, id, {});
    assert.deepEqual(body(missing).details, { type: 'type is required' });
    for (const payload of [[], null, 'x', { type: 'opened', provider_event_id: '' }, { type: 'opened', provider_event_id: 'a', occurred_at: '2024-02-30T00:00:00Z' }]) {
      assert.equal((await api.event(tenant.auth, id, payload)).statusCode, 400, JSON.stringify(payload));
    }
  });
});

describe('tracking events list', () => {
  test('oldest first, paged like the history', async () => {
    const { tenant, id } = await emailFollowup();
    for (const [n, at] of [[1, '2024-01-03T00:00:00Z'], [2, '2024-01-01T00:00:00Z'], [3, '2024-01-02T00:00:00Z']] as const) {
      await api.event(tenant.auth, id, { type: 'opened', provider_event_id: `p-${n}`, occurred_at: at });
    }
    const page = body(await api.events(tenant.auth, id, 'page=1&limit=2'));
    assert.deepEqual(page.pagination, { total: 3, page: 1, limit: 2, pages: 2 });
    assert.deepEqual(page.data.map((e: any) => e.occurred_at), ['2024-01-01T00:00:00+00:00', '2024-01-02T00:00:00+00:00']);
    assert.deepEqual(body(await api.events(tenant.auth, id, 'page=2&limit=2')).data.map((e: any) => e.occurred_at), ['2024-01-03T00:00:00+00:00']);
    assert.ok(page.data.every((e: any) => !('url' in e)));
    const bad = await api.events(tenant.auth, id, 'page=0&limit=1000');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(Object.keys(body(bad).details).sort(), ['limit', 'page']);
  });
});
