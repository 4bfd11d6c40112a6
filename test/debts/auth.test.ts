import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { API, body, setup } from '../helpers/setup.js';
import { VALID_DEBT } from '../helpers/debts.js';

const ctx = await setup();

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function call(method: Method, path: string, headers: Record<string, string>) {
  const payload = method === 'POST' || method === 'PUT' || method === 'PATCH' ? JSON.stringify(VALID_DEBT) : undefined;
  return ctx.app.inject({ method, url: `${API}${path}`, headers: { ...headers, ...(payload && { 'content-type': 'application/json' }) }, payload });
}

// No token, wrong scope, another company's debt, forged ids: test/debts/security.test.ts.
describe('debts: authentication and scopes', () => {
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
