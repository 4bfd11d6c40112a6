/**
 * Per-client budgets on the API (SPEC §10), in one process: the N + 1th request of a window is
 * the first 429, however many arrive at once; reads and writes are counted apart; every answer
 * to a request with a valid token carries the four X-RateLimit-* headers; a refused request does
 * no work and is not counted; a client's own budget, set while the app runs, applies at once.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { setClientRateLimits } from '../../src/auth/clients-repository.js';
import { valueOf } from '../helpers/metrics.js';
import { pastMoment, waitFor } from '../helpers/processes.js';
import { API_DEFAULTS, assertApiRateLimited, assertWindowEnd, budget, budgetOf, countdown, roomInWindow, statusCounts } from '../helpers/rate-limits.js';
import { API, body, setup, type Tenant } from '../helpers/setup.js';

const ctx = await setup({ rateLimits: API_DEFAULTS });
const WINDOW = API_DEFAULTS.windowSeconds;
beforeEach(() => roomInWindow(WINDOW, 60_000));

const get = (tenant: Tenant, path: string, app = ctx.app) => app.inject({ method: 'GET', url: `${API}${path}`, headers: tenant.auth });
const post = (tenant: Tenant, path: string, payload: object) => ctx.app.inject({ method: 'POST', url: `${API}${path}`, headers: tenant.auth, payload });

/** A new tenant whose client has these budgets of its own, set before its first API request. */
async function limitedTenant(limits: { read?: number; write?: number }, scopes?: Parameters<typeof ctx.tenant>[0]): Promise<Tenant> {
  const tenant = await ctx.tenant(scopes);
  await setClientRateLimits(tenant.clientId, limits, ctx.pool);
  return tenant;
}

describe('a client\'s budget per window', () => {
  test('of N + k concurrent reads exactly N are served, each showing its place in the countdown; the k others are the contract\'s 429', async () => {
    const tenant = await limitedTenant({ read: 10 });
    const before = Date.now();
    const responses = await Promise.all(Array.from({ length: 25 }, () => get(tenant, '/followups?limit=1')));
    const after = Date.now();
    assert.deepEqual(statusCounts(responses), { 200: 10, 429: 15 });
    const served = responses.filter((r) => r.statusCode === 200).map(budget);
    assert.deepEqual(served.map((b) => b.remaining).sort((a, b) => b - a), countdown(10).reverse());
    for (const shown of served) {
      assert.deepEqual({ limit: shown.limit, window: shown.window }, { limit: 10, window: WINDOW });
      assertWindowEnd(shown.reset, WINDOW, before, after);
    }
    for (const refused of responses.filter((r) => r.statusCode === 429)) assertApiRateLimited(refused, 10, WINDOW, before, after);
    assert.equal(new Set(responses.map((r) => budget(r).reset)).size, 1, 'one window');
  });

  test('reads and writes are counted apart: spent reads leave the writes whole, and the other way round', async () => {
    const tenant = await limitedTenant({ read: 2, write: 3 });
    const debtId = await tenant.debt();
    for (const remaining of [1, 0]) assert.equal(budget(await get(tenant, '/followups')).remaining, remaining);
    assert.equal((await get(tenant, '/followups')).statusCode, 429);

    const writes = await Promise.all(Array.from({ length: 5 }, () => post(tenant, '/followups', { debt_id: debtId })));
    assert.deepEqual(statusCounts(writes), { 201: 3, 429: 2 });
    assert.deepEqual(writes.filter((w) => w.statusCode === 201).map((w) => budget(w)).map(({ limit, remaining }) => ({ limit, remaining }))
      .sort((a, b) => b.remaining - a.remaining), [{ limit: 3, remaining: 2 }, { limit: 3, remaining: 1 }, { limit: 3, remaining: 0 }]);
    assert.equal(body(writes.find((w) => w.statusCode === 429)!).details.limit, 3);
    assert.equal(budget(await get(tenant, '/followups')).limit, 2, 'a read is still counted against the reads');

    const other = await limitedTenant({ read: 2, write: 1 });
    assert.equal((await post(other, '/followups', { debt_id: await other.debt() })).statusCode, 201);
    assert.equal((await post(other, '/followups', { debt_id: await other.debt() })).statusCode, 429);
    assert.equal((await get(other, '/followups')).statusCode, 200, 'spent writes leave the reads whole');
  });

  test('the default budgets apply to a client without its own: 1,000 reads and 500 writes an hour', async () => {
    const tenant = await ctx.tenant();
    const read = budget(await get(tenant, '/enums'));
    assert.deepEqual({ limit: read.limit, remaining: read.remaining, window: read.window }, { limit: 1_000, remaining: 999, window: 3_600 });
    const write = budget(await post(tenant, '/followups', {}));
    assert.deepEqual({ limit: write.limit, remaining: write.remaining }, { limit: 500, remaining: 499 });
  });

  test('every answer to a request with a valid token carries the headers, errors too, counting down one by one', async () => {
    const tenant = await limitedTenant({ read: 50, write: 50 }, ['followups:read', 'followups:write']);
    const other = await ctx.tenant();
    const foreign = await other.followup(await other.debt());
    const own = await tenant.followup(await tenant.debt());
    const reads: [string, string, number][] = [
      ['GET', '/followups', 200],
      ['HEAD', '/followups', 200],
      ['GET', `/followups/${own}`, 200],
      ['GET', '/followups/Qd4YaoWAqUqUu-fRwvIWqg', 404],
      ['GET', '/followups/not-an-id', 404],
      ['GET', '/followups?page=0', 400],
      ['GET', `/followups/${foreign}`, 403],
      ['GET', '/debts', 403],
      ['GET', '/no-such-route', 404],
    ];
    let previous = budget(await get(tenant, '/enums')).remaining;
    for (const [method, path, status] of reads) {
      const response = await ctx.app.inject({ method: method as 'GET', url: `${API}${path}`, headers: tenant.auth });
      assert.equal(response.statusCode, status, `${method} ${path}: ${response.body}`);
      const shown = budget(response);
      assert.deepEqual({ limit: shown.limit, remaining: shown.remaining, window: shown.window }, { limit: 50, remaining: previous - 1, window: WINDOW }, `${method} ${path}`);
      previous = shown.remaining;
    }
    // The followup above was the first write.
    const writes: [string, string, string | undefined, number][] = [
      ['POST', '/followups', '{"type":"fax"}', 400],
      ['POST', '/followups', '{bad', 400],
      ['PATCH', `/followups/${own}`, '{"summary":"x"}', 200],
      ['PATCH', `/followups/${foreign}`, '{"summary":"x"}', 403],
      ['DELETE', '/followups', undefined, 405],
      ['POST', '/debts', '{}', 403],
    ];
    previous = 49;
    for (const [method, path, payload, status] of writes) {
      const response = await ctx.app.inject({
        method: method as 'POST', url: `${API}${path}`, headers: { ...tenant.auth, ...(payload !== undefined && { 'content-type': 'application/json' }) }, payload,
      });
      assert.equal(response.statusCode, status, `${method} ${path}: ${response.body}`);
      assert.deepEqual({ limit: budget(response).limit, remaining: budget(response).remaining }, { limit: 50, remaining: previous - 1 }, `${method} ${path}`);
      previous = budget(response).remaining;
    }
  });

  test('a request without a valid token is not counted and shows no budget: its client is unknown', async () => {
    const tenant = await limitedTenant({ read: 3 });
    for (const authorization of [undefined, 'Bearer rl_at_forged', `Bearer ${tenant.token}x`, tenant.token]) {
      const response = await ctx.app.inject({ method: 'GET', url: `${API}/followups`, headers: authorization === undefined ? {} : { authorization } });
      assert.equal(response.statusCode, 401);
      assert.equal(budgetOf(response), undefined);
    }
    assert.equal(budget(await get(tenant, '/followups')).remaining, 2);
    // Outside the API, nothing is counted.
    for (const url of ['/health', '/openapi.json']) assert.equal(budgetOf(await ctx.app.inject({ method: 'GET', url, headers: tenant.auth })), undefined, url);
    assert.equal(budget(await get(tenant, '/followups')).remaining, 1);
  });
});

describe('a refused request', () => {
  test('is refused before any work: of 3 + 7 concurrent creates, 3 followups exist, and the refused left no trace', async () => {
    const tenant = await limitedTenant({ write: 3 });
    const debtId = await tenant.debt();
    const creates = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: { ...tenant.auth, 'idempotency-key': `key-${i}` }, payload: { debt_id: debtId, call_id: `call-${i}` } })));
    assert.deepEqual(statusCounts(creates), { 201: 3, 429: 7 });
    const created = creates.filter((c) => c.statusCode === 201).map((c) => body(c).data.call_id).sort();
    const { rows } = await ctx.pool.query<{ call_id: string }>('SELECT call_id FROM followups WHERE company_id = $1 ORDER BY call_id', [tenant.companyId]);
    assert.deepEqual(rows.map((r) => r.call_id), created);
    const keys = await ctx.pool.query('SELECT key FROM idempotency_keys WHERE company_id = $1', [tenant.companyId]);
    assert.equal(keys.rowCount, 3, 'a refused request stores no idempotency key either');
  });

  test('is not counted: a budget raised mid-window gives exactly the difference, a lowered one refuses at once', async () => {
    const tenant = await limitedTenant({ read: 2 });
    for (let i = 0; i < 2; i++) assert.equal((await get(tenant, '/followups')).statusCode, 200);
    const refused = await Promise.all(Array.from({ length: 20 }, () => get(tenant, '/followups')));
    assert.deepEqual(statusCounts(refused), { 429: 20 });
    await setClientRateLimits(tenant.clientId, { read: 5 }, ctx.pool);
    await waitFor('the raised budget to apply', async () => ((await get(tenant, '/followups')).statusCode === 200 ? true : undefined), 5_000);
    // The first request of the raised budget was the poll that saw it; 20 refused ones took nothing.
    const rest = await Promise.all(Array.from({ length: 5 }, () => get(tenant, '/followups')));
    assert.deepEqual(statusCounts(rest), { 200: 2, 429: 3 });
    await setClientRateLimits(tenant.clientId, { read: 4 }, ctx.pool);
    await waitFor('the lowered budget to apply', async () => (budget(await get(tenant, '/followups')).limit === 4 ? true : undefined), 5_000);
    const lowered = await get(tenant, '/followups');
    assert.equal(lowered.statusCode, 429);
    assert.deepEqual({ limit: budget(lowered).limit, remaining: budget(lowered).remaining }, { limit: 4, remaining: 0 });
  });

  test('is refused only until the window ends: hammering meanwhile neither extends the refusal nor eats into the next window', async () => {
    const window = 2;
    const app = await buildApp({ pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage: ctx.storage, rateLimits: { ...API_DEFAULTS, windowSeconds: window, reads: 3 } });
    after(() => app.close());
    const tenant = await ctx.tenant();
    // Start at the beginning of a window, so that the three fit in it however slow the machine.
    await new Promise((resolve) => setTimeout(resolve, window * 1000 - (Date.now() % (window * 1000)) + 20));
    const first = await Promise.all(Array.from({ length: 3 }, () => get(tenant, '/followups', app)));
    assert.deepEqual(statusCounts(first), { 200: 3 });
    const reset = budget(first[0]!).reset;
    let refused = 0;
    while (Date.now() < reset * 1000 - 100) {
      const response = await get(tenant, '/followups', app);
      if (budget(response).reset !== reset) break;
      assert.equal(response.statusCode, 429);
      assert.ok(Number(response.headers['retry-after']) <= window);
      refused++;
    }
    await pastMoment(reset * 1000, 20);
    const next = await get(tenant, '/followups', app);
    assert.equal(next.statusCode, 200, `after ${refused} refused requests`);
    assert.equal(budget(next).remaining, 2, 'the refused requests were not counted in the new window');
    assert.ok(budget(next).reset > reset);
  });
});

describe('a client\'s own budget', () => {
  test('set or cleared while the app runs applies within moments, through the change announcement (not the cache\'s expiry)', async () => {
    // This app would keep a client's state a minute.
    const app = await buildApp({ pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage: ctx.storage, clientStateTtlMs: 60_000, rateLimits: API_DEFAULTS });
    after(() => app.close());
    const tenant = await ctx.tenant();
    assert.equal(budget(await get(tenant, '/followups', app)).limit, 1_000);
    await setClientRateLimits(tenant.clientId, { read: 7, write: 9 }, ctx.pool);
    await waitFor('the client\'s own budget', async () => (budget(await get(tenant, '/followups', app)).limit === 7 ? true : undefined), 5_000);
    const write = await app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: {} });
    assert.equal(budget(write).limit, 9);
    await setClientRateLimits(tenant.clientId, { read: null }, ctx.pool);
    await waitFor('the default budget again', async () => (budget(await get(tenant, '/followups', app)).limit === 1_000 ? true : undefined), 5_000);
    assert.equal(budget(await app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: {} })).limit, 9, 'the writes\' own budget stays');
  });
});

test('every refusal is counted on /metrics by its budget: read, write, token', async () => {
  const TOKEN = 'm'.repeat(40);
  const app = await buildApp({
    pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage: ctx.storage, metricsToken: TOKEN,
    rateLimits: { ...API_DEFAULTS, token: { perClient: 1, perAddress: 1_000, windowSeconds: WINDOW } },
  });
  after(() => app.close());
  const tenant = await limitedTenant({ read: 1, write: 1 });
  const statuses = [];
  for (const method of ['GET', 'GET', 'GET', 'POST', 'POST'] as const) {
    statuses.push((await app.inject({ method, url: `${API}/followups`, headers: tenant.auth, ...(method === 'POST' && { payload: {} }) })).statusCode);
  }
  const credentials = { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret };
  for (let i = 0; i < 2; i++) statuses.push((await app.inject({ method: 'POST', url: '/token', payload: credentials })).statusCode);
  assert.deepEqual(statuses, [200, 429, 429, 400, 429, 200, 429]);
  const text = (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body;
  assert.deepEqual(['read', 'write', 'token'].map((bucket) => valueOf(text, 'relance_rate_limit_rejections_total', { bucket })), [2, 1, 1]);
});
