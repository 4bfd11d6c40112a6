/**
 * What the server sends is what `/openapi.json` says: for the README walkthrough and for each kind
 * of error, the status is one the operation documents, the body is valid against the documented
 * schema, and the headers it carries are the documented ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { DEFAULT_RATE_LIMITS } from '../../src/config.js';
import { documentedResponse, operations, schemaChecker, type OpenApiDocument } from '../helpers/openapi.js';
import { API, body, setup, type Response } from '../helpers/setup.js';

const ctx = await setup();
const document: OpenApiDocument = body(await ctx.app.inject({ method: 'GET', url: '/openapi.json' }));
const check = schemaChecker(document);
const byId = new Map(operations(document).map(({ operation }) => [operation.operationId, operation]));

/** Headers the server always sends with these statuses. */
const ALWAYS: Record<number, string[]> = { 401: ['WWW-Authenticate'], 429: ['Retry-After'], 503: ['Retry-After'] };

function conforms(operationId: string, response: Response, status?: number): void {
  const label = `${operationId} ${response.statusCode} ${response.body.slice(0, 120)}`;
  if (status !== undefined) assert.equal(response.statusCode, status, label);
  const operation = byId.get(operationId);
  assert.ok(operation, `no operation ${operationId}`);
  const documented = documentedResponse(document, operation, response.statusCode);
  assert.ok(documented, `${label}: status not documented`);
  const media = documented.content?.['application/json'];
  assert.ok(media, label);
  assert.match(String(response.headers['content-type']), /^application\/json/, label);
  assert.deepEqual(check(media.schema, response.json()).map((e) => `${e.instancePath} ${e.message}`), [], label);
  const headers = Object.entries(documented.headers ?? {}).map(([name, { $ref }]) => [name, document.components.headers[$ref.split('/').pop()!]!] as const);
  for (const name of ['X-Request-Id', ...(ALWAYS[response.statusCode] ?? [])]) {
    assert.ok(headers.some(([documentedName]) => documentedName === name), `${label}: ${name} not documented`);
    assert.ok(response.headers[name.toLowerCase()] !== undefined, `${label}: no ${name}`);
  }
  for (const [name, header] of headers) {
    const value = response.headers[name.toLowerCase()];
    if (value === undefined) continue;
    const typed = (header.schema as { type?: string }).type === 'integer' ? Number(value) : value;
    assert.deepEqual(check(header.schema, typed), [], `${label}: ${name}: ${String(value)}`);
  }
}

const json = (headers: Record<string, string>) => ({ ...headers, 'content-type': 'application/json' });

test('the README walkthrough gets the documented responses', async () => {
  const tenant = await ctx.tenant();
  const basic = `Basic ${Buffer.from(`${tenant.clientId}:${tenant.clientSecret}`).toString('base64')}`;
  const token = await ctx.app.inject({
    method: 'POST', url: '/token', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials',
  });
  conforms('issueToken', token, 200);
  const auth = { authorization: `Bearer ${body(token).access_token}` };

  const debt = await ctx.app.inject({
    method: 'POST', url: `${API}/debts`, headers: json(auth),
    payload: { civility: 'Ms', firstname: 'Jane', lastname: 'Doe', phone: '06 12 34 56 78', country: 'FR', amount: 1250, currency: 'EUR', invoice_reference: 'INV-2024-001', due_date: '2024-02-05', metadata: { crm_id: 'C-1042' } },
  });
  conforms('createDebt', debt, 201);
  const debtId = body(debt).data.id;

  const start = {
    method: 'POST' as const, url: `${API}/followups`, headers: json({ ...auth, 'idempotency-key': 'dialer-7f3a-start' }),
    payload: { debt_id: debtId, type: 'call', status: 'in_progress', call_id: 'dialer-7f3a', direction: 'outbound', phone_number_used: '+33612345678', call_date: '2024-01-25T10:00:00+01:00' },
  };
  const created = await ctx.app.inject(start);
  conforms('createFollowup', created, 201);
  const replayed = await ctx.app.inject(start);
  conforms('createFollowup', replayed, 201);
  assert.equal(replayed.headers['idempotent-replayed'], 'true');
  const id = body(created).data.id;

  const existing = await ctx.app.inject({ ...start, headers: json(auth) });
  conforms('createFollowup', existing, 200);

  const outcome = { status: 'deal_found', duration_ms: 184000, summary: 'Agreed to pay in 3 instalments', disconnection_reason: 'user_hangup' };
  conforms('patchFollowup', await ctx.app.inject({ method: 'PATCH', url: `${API}/followups/${id}`, headers: json(auth), payload: outcome }), 200);
  conforms('putFollowup', await ctx.app.inject({ method: 'PUT', url: `${API}/followups/${id}`, headers: json(auth), payload: { notes: 'Sent the plan by email' } }), 200);
  conforms('getFollowup', await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: auth }), 200);
  conforms('listDebtFollowups', await ctx.app.inject({ method: 'GET', url: `${API}/followups/debt/${debtId}?status=deal_found`, headers: auth }), 200);
  conforms('listFollowups', await ctx.app.inject({ method: 'GET', url: `${API}/followups?type=call,sms&sort=updated_at&limit=1&cursor=`, headers: auth }), 200);
  conforms('listFollowups', await ctx.app.inject({ method: 'GET', url: `${API}/followups?date_from=2024-01-01&page=1`, headers: auth }), 200);
  conforms('getFollowupHistory', await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/history`, headers: auth }), 200);
  conforms('getDebt', await ctx.app.inject({ method: 'GET', url: `${API}/debts/${debtId}`, headers: auth }), 200);
  conforms('listDebts', await ctx.app.inject({ method: 'GET', url: `${API}/debts?status=status.default.pending&currency=eur`, headers: auth }), 200);
  conforms('patchDebt', await ctx.app.inject({ method: 'PATCH', url: `${API}/debts/${debtId}`, headers: json(auth), payload: { metadata: null } }), 200);
  conforms('getEnums', await ctx.app.inject({ method: 'GET', url: `${API}/enums`, headers: auth }), 200);
  conforms('deleteDebt', await ctx.app.inject({ method: 'DELETE', url: `${API}/debts/${await tenant.debt()}`, headers: auth }), 200);

  const credentials = { token: body(token).access_token, client_id: tenant.clientId, client_secret: tenant.clientSecret };
  conforms('introspectToken', await ctx.app.inject({ method: 'POST', url: '/token/introspect', payload: credentials }), 200);
  conforms('revokeToken', await ctx.app.inject({ method: 'POST', url: '/token/revoke', payload: credentials }), 200);
  conforms('introspectToken', await ctx.app.inject({ method: 'POST', url: '/token/introspect', payload: credentials }), 200);
  for (const [operationId, url] of [['getIndex', '/'], ['getHealth', '/health'], ['getReady', '/ready']] as const) {
    conforms(operationId, await ctx.app.inject({ method: 'GET', url }), 200);
  }
});

test('each kind of error gets a documented response', async () => {
  const tenant = await ctx.tenant();
  const other = await ctx.tenant();
  const reader = await ctx.tenant(['followups:read']);
  const debtId = await tenant.debt();
  const followup = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: json(tenant.auth), payload: { debt_id: debtId, call_id: 'a' } });
  const second = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: json(tenant.auth), payload: { debt_id: debtId, call_id: 'b' } });
  const id = body(followup).data.id;
  const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: string) =>
    ctx.app.inject({ method, url: `${API}${url}`, headers, ...(payload !== undefined && { payload }) });

  conforms('getFollowup', await send('GET', `/followups/${id}`, {}), 401);
  conforms('createFollowup', await send('POST', '/followups', json(reader.auth), '{}'), 403);
  conforms('getFollowup', await send('GET', `/followups/${id}`, other.auth), 403);
  conforms('getDebt', await send('GET', `/debts/${debtId}`, other.auth), 403);
  conforms('getFollowup', await send('GET', '/followups/Qd4YaoWAqUqUu-fRwvIWqg', tenant.auth), 404);
  conforms('listDebtFollowups', await send('GET', '/followups/debt/Qd4YaoWAqUqUu-fRwvIWqg', tenant.auth), 404);
  conforms('listFollowups', await send('GET', '/followups?page=0&sort=x&status=nope', tenant.auth), 400);
  conforms('getFollowupHistory', await send('GET', `/followups/${id}/history?limit=500`, tenant.auth), 400);
  conforms('createFollowup', await send('POST', '/followups', json(tenant.auth), '{"type":"fax"}'), 400);
  conforms('createFollowup', await send('POST', '/followups', json(tenant.auth), '{bad'), 400);
  conforms('createDebt', await send('POST', '/debts', json(tenant.auth), '{"amount":-1}'), 400);
  conforms('patchFollowup', await send('PATCH', `/followups/${body(second).data.id}`, json(tenant.auth), '{"call_id":"a"}'), 409);
  const key = { ...json(tenant.auth), 'idempotency-key': 'reused-key' };
  conforms('createFollowup', await send('POST', '/followups', key, JSON.stringify({ debt_id: debtId })), 201);
  conforms('createFollowup', await send('POST', '/followups', key, JSON.stringify({ debt_id: debtId, notes: 'x' })), 422);
  conforms('createFollowup', await send('POST', '/followups', json(tenant.auth), JSON.stringify({ notes: 'x'.repeat(1024 * 1024) })), 413);
  conforms('createFollowup', await send('POST', '/followups', { ...tenant.auth, 'content-type': 'text/plain' }, 'x'), 415);
  conforms('deleteDebt', await send('DELETE', `/debts/${debtId}`, { ...tenant.auth, 'content-type': 'text/plain' }, 'x'), 415);
  conforms('getFollowup', await send('GET', `/followups/${'x'.repeat(201)}`, tenant.auth), 414);
  conforms('getFollowup', await send('GET', '/followups/%zz', tenant.auth), 400);

  conforms('issueToken', await ctx.app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'password' } }), 400);
  conforms('issueToken', await ctx.app.inject({ method: 'POST', url: '/token%zz' }), 400);
  conforms('issueToken', await ctx.app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: 'wrong' } }), 401);
  conforms('revokeToken', await ctx.app.inject({ method: 'POST', url: '/token/revoke', payload: { token: tenant.token } }), 401);
});

test('shed load gets the documented 503, on the API as on the token endpoint', async () => {
  const tenant = await ctx.tenant();
  const shedding = await buildApp({ pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), databaseQueueLimit: 0, storage: ctx.storage });
  try {
    conforms('getIndex', await shedding.inject({ method: 'GET', url: '/' }), 503);
    conforms('listFollowups', await shedding.inject({ method: 'GET', url: `${API}/followups`, headers: tenant.auth }), 503);
    conforms('issueToken', await shedding.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials' } }), 503);
  } finally {
    await shedding.close();
  }
});

test('a spent budget gets the documented 429, with the documented rate-limit headers, on the API as on the token endpoint', async () => {
  const tenant = await ctx.tenant();
  const limited = await buildApp({
    pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage: ctx.storage,
    rateLimits: { ...DEFAULT_RATE_LIMITS, reads: 1, writes: 1, token: { perClient: 1, perAddress: 100, windowSeconds: 60 } },
  });
  const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'X-RateLimit-Window'];
  const counted = (operationId: string, response: Response, status: number) => {
    conforms(operationId, response, status);
    const documented = Object.keys(documentedResponse(document, byId.get(operationId)!, status)!.headers ?? {});
    for (const name of RATE_LIMIT_HEADERS) {
      assert.ok(documented.includes(name), `${operationId} ${status}: ${name} not documented`);
      assert.ok(response.headers[name.toLowerCase()] !== undefined, `${operationId} ${status}: no ${name}`);
    }
  };
  try {
    counted('listFollowups', await limited.inject({ method: 'GET', url: `${API}/followups`, headers: tenant.auth }), 200);
    counted('listFollowups', await limited.inject({ method: 'GET', url: `${API}/followups`, headers: tenant.auth }), 429);
    counted('createFollowup', await limited.inject({ method: 'POST', url: `${API}/followups`, headers: json(tenant.auth), payload: '{}' }), 400);
    counted('createFollowup', await limited.inject({ method: 'POST', url: `${API}/followups`, headers: json(tenant.auth), payload: '{}' }), 429);
    const credentials = { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret };
    counted('issueToken', await limited.inject({ method: 'POST', url: '/token', payload: credentials }), 200);
    counted('issueToken', await limited.inject({ method: 'POST', url: '/token', payload: credentials }), 429);
  } finally {
    await limited.close();
  }
});
