import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCOPES } from '../../src/auth/scopes.js';
import { API, body, setup } from '../helpers/setup.js';
import { VALID_DEBT } from '../helpers/debts.js';

const ctx = await setup();

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** Every debts endpoint with the scope it needs; `:id` is replaced by a debt id of the caller. */
const ENDPOINTS: [Method, string, 'debts:read' | 'debts:write'][] = [
  ['POST', '/debts', 'debts:write'],
  ['GET', '/debts', 'debts:read'],
  ['GET', '/debts/:id', 'debts:read'],
  ['PUT', '/debts/:id', 'debts:write'],
  ['PATCH', '/debts/:id', 'debts:write'],
  ['DELETE', '/debts/:id', 'debts:write'],
];

function call(method: Method, path: string, headers: Record<string, string>) {
  const payload = method === 'POST' || method === 'PUT' || method === 'PATCH' ? JSON.stringify(VALID_DEBT) : undefined;
  return ctx.app.inject({ method, url: `${API}${path}`, headers: { ...headers, ...(payload && { 'content-type': 'application/json' }) }, payload });
}

describe('debts: authentication and scopes', () => {
  test('no token, a malformed or a forged token is 401 with WWW-Authenticate', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const forged = tenant.token.slice(0, -4) + (tenant.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const authorization of [undefined, 'Bearer', `Bearer ${forged}`, `Basic ${tenant.token}`]) {
      for (const [method, path] of ENDPOINTS) {
        const response = await call(method, path.replace(':id', debtId), authorization ? { authorization } : {});
        assert.equal(response.statusCode, 401, `${method} ${path} ${authorization}`);
        assert.match(String(response.headers['www-authenticate']), /^Bearer/);
        assert.equal(response.body, JSON.stringify({ error: true, message: 'Authentication credentials are missing or invalid', code: 401 }));
      }
    }
    assert.equal((await ctx.app.inject({ method: 'GET', url: `${API}/debts/${debtId}`, headers: tenant.auth })).statusCode, 200);
  });

  test('a token without the scope is 403 naming it, and changes nothing', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const before = body(await call('GET', `/debts/${debtId}`, tenant.auth)).data;
    for (const [method, path, scope] of ENDPOINTS) {
      const others = SCOPES.filter((s) => s !== scope);
      const token = body(await ctx.app.inject({
        method: 'POST', url: '/token',
        payload: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret, scope: others.join(' ') },
      })).access_token;
      const response = await call(method, path.replace(':id', debtId), { authorization: `Bearer ${token}` });
      assert.equal(response.statusCode, 403, `${method} ${path}`);
      assert.equal(response.body, JSON.stringify({ error: true, message: `Required scope "${scope}" not found in token`, code: 403 }));
    }
    assert.deepEqual(body(await call('GET', `/debts/${debtId}`, tenant.auth)).data, before);
    assert.equal(body(await call('GET', '/debts', tenant.auth)).pagination.total, 1);
  });

  test('debts:write alone can create, update and delete; debts:read alone can read', async () => {
    const writer = await ctx.tenant(['debts:write']);
    const reader = await ctx.tenant(['debts:read']);
    const created = await call('POST', '/debts', writer.auth);
    assert.equal(created.statusCode, 201);
    const id = body(created).data.id;
    assert.equal((await call('PATCH', `/debts/${id}`, writer.auth)).statusCode, 200);
    assert.equal((await call('DELETE', `/debts/${id}`, writer.auth)).statusCode, 200);
    const readerDebt = await reader.debt();
    assert.equal((await call('GET', `/debts/${readerDebt}`, reader.auth)).statusCode, 200);
    assert.equal((await call('GET', '/debts', reader.auth)).statusCode, 200);
  });

  test('authentication is checked before the body is read', async () => {
    const response = await ctx.app.inject({
      method: 'POST', url: `${API}/debts`, headers: { 'content-type': 'application/json' }, payload: '{broken',
    });
    assert.equal(response.statusCode, 401);
  });
});
