import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type pg from 'pg';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { createClient } from '../../src/auth/client-service.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys } from '../../src/security/keys.js';
import { followupClient } from '../helpers/followups.js';
import { body, setup, type Response } from '../helpers/setup.js';
import { HUMAN_UA, trackingClient } from '../helpers/tracking.js';

const ctx = await setup();
const followups = followupClient(ctx);
const api = trackingClient(ctx);

const emailFollowup = api.emailFollowup;

/** Waits until some session is blocked by `client`'s transaction, or `done()` (at most 5 s); whether one was blocked. */
async function untilBlockedBy(client: pg.PoolClient, done: () => boolean = () => false): Promise<boolean> {
  const { rows: [self] } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  for (let i = 0; i < 100 && !done(); i++) {
    const { rows } = await ctx.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [self!.pid]);
    if (rows[0]!.n > 0) return true;
    await sleep(50);
  }
  if (done()) return false;
  throw new Error('no session got blocked');
}

/**
 * Runs `request` while the followup is being deleted (with its debt, as DELETE /debts does): the
 * request has found the followup, then waits on the deleting transaction, which commits.
 */
async function whileDeleted(id: string, request: () => Promise<Response>): Promise<Response> {
  const client = await ctx.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('DELETE FROM followups WHERE id = $1', [ctx.ids.decode('followup', id)]);
    const pending = request();
    await untilBlockedBy(client);
    await client.query('COMMIT');
    return await pending;
  } finally {
    client.release();
  }
}

describe('tracking while the followup is deleted', () => {
  test('a click (by a person or a scanner) on a link whose followup is being deleted is a 404, not a 500', async () => {
    for (const agent of [HUMAN_UA, 'Mimecast-URL-Protect']) {
      const { tenant, id } = await emailFollowup();
      const link = await api.linkUrl(tenant.auth, id, 'https://a.example.com/');
      const response = await whileDeleted(id, () => api.visit(link, agent));
      assert.equal(response.statusCode, 404, `${agent}: ${response.body}`);
      assert.equal(response.body, JSON.stringify({ error: true, message: 'Tracking link not found', code: 404 }));
    }
  });

  test('an open of a followup being deleted still answers the GIF', async () => {
    const { tenant, id } = await emailFollowup();
    const pixel = await api.pixelUrl(tenant.auth, id);
    const response = await whileDeleted(id, () => api.visit(pixel, HUMAN_UA));
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'image/gif');
  });

  test('a provider event, a new tracked link or the pixel of a followup being deleted: 404 Followup not found, not a 500', async () => {
    const requests: ((auth: { authorization: string }, id: string) => Promise<Response>)[] = [
      (auth, id) => api.event(auth, id, { type: 'opened', provider_event_id: 'evt-1' }),
      (auth, id) => api.event(auth, id, { type: 'opened', provider_event_id: 'evt-2', user_agent: 'Googlebot/2.1' }),
      (auth, id) => api.link(auth, id, { url: 'https://a.example.com/' }),
      (auth, id) => api.pixel(auth, id),
    ];
    for (const request of requests) {
      const { tenant, id } = await emailFollowup();
      const response = await whileDeleted(id, () => request(tenant.auth, id));
      assert.equal(response.statusCode, 404, response.body);
      assert.equal(response.body, JSON.stringify({ error: true, message: 'Followup not found', code: 404 }));
    }
  });
});

describe('tracking and payments of one followup', () => {
  test("a status change by tracking does not wait for a transaction that only refers to the followup (a payment attributed to it)", async () => {
    // A payment attributed to the followup inserts its row first (the foreign key share-locks the
    // followup), then sets triggered_payment. A tracking status change that locks the followup,
    // then asks for a stronger lock to change the status, waited for that payment, which then
    // waited for it: a deadlock, PostgreSQL killing one of them after a second.
    for (const type of ['opened', 'bounced', 'delivered']) {
      const { tenant, id } = await emailFollowup('sent');
      const { rows: [followup] } = await ctx.pool.query('SELECT company_id, debt_id FROM followups WHERE id = $1', [ctx.ids.decode('followup', id)]);
      const client = await ctx.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO payments (company_id, debt_id, followup_id, amount, currency, paid_at) VALUES ($1, $2, $3, 10, 'EUR', now())`,
          [followup.company_id, followup.debt_id, ctx.ids.decode('followup', id)],
        );
        let finished = false;
        const pending = api.event(tenant.auth, id, { type, provider_event_id: `evt-${type}` }).finally(() => { finished = true; });
        const blocked = await untilBlockedBy(client, () => finished);
        await client.query('ROLLBACK');
        assert.equal(blocked, false, `${type}: the tracking event waited for the payment's transaction`);
        assert.equal((await pending).statusCode, 201);
      } finally {
        client.release();
      }
    }
  });

  test('attributed payments and status-changing events of one followup, concurrently, all succeed', async () => {
    const { tenant, id } = await emailFollowup('sent');
    const debtId = body(await followups.get(tenant.auth, id)).data.debt_id;
    const payment = (i: number) => ctx.app.inject({
      method: 'POST', url: '/external-api/v1/payments', headers: { ...tenant.auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ debt_id: debtId, amount: '0.01', currency: 'EUR', followup_id: id, reference: `p-${i}` }),
    });
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => i % 2 ? payment(i) : api.event(tenant.auth, id, { type: 'bounced', provider_event_id: `b-${i}` })));
    assert.deepEqual(responses.map((r) => r.statusCode), Array(30).fill(201));
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual([data.status, data.triggered_payment], ['failed', true]);
  });
});

describe('a payment racing an update of its followup', () => {
  test('both land: the update is applied, the payment counted and attributed, each in the history', async () => {
    const { tenant, id } = await emailFollowup('sent');
    const debtId = body(await followups.get(tenant.auth, id)).data.debt_id;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2
      ? ctx.app.inject({
        method: 'POST', url: '/external-api/v1/payments', headers: { ...tenant.auth, 'content-type': 'application/json' },
        payload: JSON.stringify({ debt_id: debtId, amount: '0.01', currency: 'EUR', followup_id: id, reference: `race-${i}` }),
      })
      : followups.update(tenant.auth, id, { summary: `update ${i}` }, 'PATCH'))));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [...Array(10).fill(200), ...Array(10).fill(201)]);
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.equal(data.triggered_payment, true);
    assert.match(data.summary, /^update \d+$/);
    const history = body(await followups.history(tenant.auth, id, 'limit=100')).data;
    assert.equal(history.filter((c: { field: string }) => c.field === 'summary').length, 10, 'every update recorded');
    assert.deepEqual(history.filter((c: { field: string }) => c.field === 'triggered_payment').map((c: { source: string }) => c.source), ['payment']);
    const payments = body(await ctx.app.inject({ method: 'GET', url: `/external-api/v1/payments?debt_id=${debtId}&limit=100`, headers: tenant.auth })).data;
    assert.equal(payments.length, 10);
  });
});

describe('first open', () => {
  test('email_first_opened_at is the earliest open, whatever the order the opens are reported in', async () => {
    const { tenant, id } = await emailFollowup('sent');
    await api.event(tenant.auth, id, { type: 'opened', provider_event_id: 'late', occurred_at: '2024-01-25T12:00:00Z' });
    assert.equal(body(await followups.get(tenant.auth, id)).data.email_first_opened_at, '2024-01-25T12:00:00+00:00');
    // The provider's webhook for an earlier open arrives after it.
    await api.event(tenant.auth, id, { type: 'opened', provider_event_id: 'early', occurred_at: '2024-01-25T10:00:00Z' });
    await api.visit(await api.pixelUrl(tenant.auth, id), HUMAN_UA);
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual([data.email_open_count, data.email_first_opened_at], [3, '2024-01-25T10:00:00+00:00']);
  });

  test('machine opens, even earlier ones, do not set it', async () => {
    const { tenant, id } = await emailFollowup('sent');
    await api.event(tenant.auth, id, { type: 'opened', provider_event_id: 'human', occurred_at: '2024-01-25T12:00:00Z' });
    await api.event(tenant.auth, id, { type: 'opened', provider_event_id: 'proxy', occurred_at: '2024-01-25T09:00:00Z', user_agent: 'Mozilla/5.0' });
    assert.equal(body(await followups.get(tenant.auth, id)).data.email_first_opened_at, '2024-01-25T12:00:00+00:00');
  });
});

describe('bounces', () => {
  test('a bounce moves a message not yet known to have reached anyone to failed', async () => {
    for (const status of ['on_hold', 'scheduled', 'in_progress', 'sent', 'delivered']) {
      const { tenant, id } = await emailFollowup(status);
      assert.equal((await api.event(tenant.auth, id, { type: 'bounced', provider_event_id: 'b' })).statusCode, 201);
      assert.equal(body(await followups.get(tenant.auth, id)).data.status, 'failed', status);
    }
  });

  test("a late bounce does not erase an open or an outcome someone recorded", async () => {
    for (const status of ['deal_found', 'deal_not_found', 'no_answer', 'bad_behavior', 'cancelled']) {
      const { tenant, id } = await emailFollowup(status);
      assert.equal((await api.event(tenant.auth, id, { type: 'bounced', provider_event_id: 'b' })).statusCode, 201);
      const history = body(await followups.history(tenant.auth, id)).data.filter((c: any) => c.field === 'status');
      assert.deepEqual(history.map((c: any) => c.to), [status], status);
    }
    const { tenant, id } = await emailFollowup('sent');
    await api.visit(await api.pixelUrl(tenant.auth, id), HUMAN_UA);
    await api.event(tenant.auth, id, { type: 'bounced', provider_event_id: 'b' });
    assert.equal(body(await followups.get(tenant.auth, id)).data.status, 'read');
    const events = body(await api.events(tenant.auth, id)).data;
    assert.deepEqual(events.map((e: any) => e.type), ['opened', 'bounced'], 'the bounce is still kept as an event');
  });
});

describe('pixel after a key change', () => {
  test('after `relance key reset`, the pixel given for an existing followup counts its opens, and the one sent before still does', async () => {
    const { tenant, id } = await emailFollowup('sent');
    const before = await api.pixelUrl(tenant.auth, id);
    // The same database served with another master key, as after `relance key reset`.
    const keys = deriveKeys(randomBytes(32));
    const app = await buildApp({ pool: ctx.pool, keys, logger: pino({ level: 'silent' }), storage: ctx.storage });
    try {
      await app.ready();
      const client = await createClient(tenant.companyId, { scopes: ['followups:read'] }, keys.secrets, ctx.pool);
      const token = await app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret } });
      const auth = { authorization: `Bearer ${token.json().access_token}` };
      const newId = new IdCodec(keys.ids).encode('followup', ctx.ids.decode('followup', id)!);
      const response = await app.inject({ method: 'GET', url: `/external-api/v1/followups/${newId}/tracking-pixel`, headers: auth });
      assert.equal(response.statusCode, 200, response.body);
      const after = body(response).data.url as string;
      await app.inject({ method: 'GET', url: new URL(after).pathname, headers: { 'user-agent': HUMAN_UA } });
      await app.inject({ method: 'GET', url: new URL(before).pathname, headers: { 'user-agent': HUMAN_UA } });
      const { rows } = await ctx.pool.query('SELECT email_open_count FROM followups WHERE id = $1', [ctx.ids.decode('followup', id)]);
      assert.equal(rows[0].email_open_count, 2, 'both pixels count');
    } finally {
      await app.close();
    }
  });
});

describe('provider events without an id', () => {
  test('provider_event_id is optional (SPEC §6): each such report is a new event, counted', async () => {
    const { tenant, id } = await emailFollowup('sent');
    const first = await api.event(tenant.auth, id, { type: 'opened', occurred_at: '2024-01-25T10:00:00Z' });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(body(first).message, 'Event recorded');
    const second = await api.event(tenant.auth, id, { type: 'opened', occurred_at: '2024-01-25T10:00:00Z' });
    assert.equal(second.statusCode, 201);
    assert.notEqual(body(second).data.id, body(first).data.id);
    assert.equal((await api.event(tenant.auth, id, { type: 'delivered' })).statusCode, 201);
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual([data.status, data.email_open_count], ['read', 2]);
    assert.equal(body(await api.events(tenant.auth, id)).pagination.total, 3);
  });
});
