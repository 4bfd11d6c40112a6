/**
 * A request whose path spells the API prefix with a percent-encoded letter
 * (`/%65xternal-api/v1/...`) is routed by Fastify (find-my-way decodes the path) to the same
 * route, but the rate-limit hook compares the raw URL with the prefix and does not count it: a
 * client with a spent budget keeps reading and writing, with no X-RateLimit-* headers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setClientRateLimits } from '../../src/auth/clients-repository.js';
import { API_DEFAULTS } from '../helpers/rate-limits.js';
import { API, setup } from '../helpers/setup.js';

const ctx = await setup({ rateLimits: API_DEFAULTS });

test('a percent-encoded spelling of the API prefix is counted against the same budget', async () => {
  const address = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const tenant = await ctx.tenant();
  await setClientRateLimits(tenant.clientId, { read: 1, write: 1 }, ctx.pool);
  const debtId = await tenant.debt();
  assert.equal((await fetch(`${address}${API}/followups`, { headers: tenant.auth })).status, 200);
  assert.equal((await fetch(`${address}${API}/followups`, { headers: tenant.auth })).status, 429);

  for (const path of ['/%65xternal-api/v1/followups', '/external-api/%761/followups']) {
    const read = await fetch(`${address}${path}`, { headers: tenant.auth });
    await read.arrayBuffer();
    assert.equal(read.status, 429, `GET ${path} was answered ${read.status} with the read budget spent`);
  }

  const json = { ...tenant.auth, 'content-type': 'application/json' };
  assert.equal((await fetch(`${address}${API}/followups`, { method: 'POST', headers: json, body: JSON.stringify({ debt_id: debtId }) })).status, 201);
  const write = await fetch(`${address}/%65xternal-api/v1/followups`, { method: 'POST', headers: json, body: JSON.stringify({ debt_id: debtId }) });
  await write.arrayBuffer();
  assert.equal(write.status, 429, `POST through the encoded prefix was answered ${write.status} with the write budget spent`);
});
