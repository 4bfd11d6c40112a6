/**
 * The endpoints that check client secrets (POST /token, /token/revoke, /token/introspect) take a
 * budget of attempts per client id and per remote address, so that a secret cannot be guessed
 * at line speed: exact under concurrency, whether the attempts succeed or not, whether the id
 * exists or not, answered in RFC 6749's format with Retry-After and the X-RateLimit-* headers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, beforeEach, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { createClient } from '../../src/auth/client-service.js';
import { insertCompany } from '../../src/companies/repository.js';
import { addressKey } from '../../src/rate-limit/token-limits.js';
import { assertWindowEnd, budget, countdown, roomInWindow, statusCounts } from '../helpers/rate-limits.js';
import { GENEROUS_RATE_LIMITS, setup } from '../helpers/setup.js';

// An hour, like the API's windows: roomInWindow keeps every test inside one of each.
const TOKEN = { perClient: 5, perAddress: 12, windowSeconds: 3_600 };
const ctx = await setup({ rateLimits: { ...GENEROUS_RATE_LIMITS, token: TOKEN } });
beforeEach(() => roomInWindow(TOKEN.windowSeconds, 60_000));

/** A client of a new company, made without asking for a token (which would count). */
async function newClient(): Promise<{ id: string; secret: string }> {
  const company = await insertCompany(`Token ${randomBytes(3).toString('hex')}`, ctx.pool);
  const client = await createClient(company.id, { scopes: ['followups:read'] }, ctx.keys.secrets, ctx.pool);
  return { id: client.client_id, secret: client.client_secret };
}

/** A documentation address (RFC 5737) of its own for each test, so that their address budgets stay apart. */
let nextAddress = 1;
const newAddress = () => `192.0.2.${nextAddress++}`;

const tokenRequest = (clientId: string, secret: string, remoteAddress: string, path = '/token', app = ctx.app) =>
  app.inject({
    method: 'POST', url: path, remoteAddress,
    payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, ...(path !== '/token' && { token: 'rl_at_x' }) },
  });

function assertTokenRateLimited(response: LightMyRequestResponse, limit: number, whose: RegExp, before: number, after: number): void {
  assert.equal(response.statusCode, 429, response.body);
  const shown = budget(response);
  assert.deepEqual({ limit: shown.limit, remaining: shown.remaining, window: shown.window }, { limit, remaining: 0, window: TOKEN.windowSeconds });
  assertWindowEnd(shown.reset, TOKEN.windowSeconds, before, after);
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(retryAfter >= 1 && shown.reset - retryAfter <= after / 1000 && shown.reset - retryAfter > before / 1000 - 1, `Retry-After ${retryAfter}`);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.json().error, 'temporarily_unavailable');
  assert.match(response.json().error_description, whose);
  assert.match(response.json().error_description, new RegExp(`retry in ${retryAfter} s$`));
}

describe('attempts per client id', () => {
  test('past the budget even the right secret is refused, from any address; other clients are not affected', async () => {
    const client = await newClient();
    const before = Date.now();
    for (let i = 0; i < TOKEN.perClient; i++) {
      const wrong = await tokenRequest(client.id, 'rls_wrong', newAddress());
      assert.equal(wrong.statusCode, 401);
      assert.equal(budget(wrong).remaining, TOKEN.perClient - 1 - i, 'the client\'s budget runs out first, so it is the one shown');
    }
    const right = await tokenRequest(client.id, client.secret, newAddress());
    assertTokenRateLimited(right, TOKEN.perClient, /^Too many attempts for this client/, before, Date.now());
    const other = await newClient();
    assert.equal((await tokenRequest(other.id, other.secret, newAddress())).statusCode, 200);
  });

  test('of 5 + 10 concurrent attempts exactly 5 are answered, whichever they are', async () => {
    const client = await newClient();
    const address = () => newAddress();
    const attempts = await Promise.all(Array.from({ length: 15 }, (_, i) => tokenRequest(client.id, i % 2 ? client.secret : 'rls_wrong', address())));
    const answered = attempts.filter((a) => a.statusCode !== 429);
    assert.equal(answered.length, 5, JSON.stringify(statusCounts(attempts)));
    assert.deepEqual(answered.map((a) => budget(a).remaining).sort(), countdown(5));
  });

  test('an id that names no client is counted just the same: a 429 tells nothing about which ids exist', async () => {
    const unknown = `rlc_${randomBytes(12).toString('hex')}`;
    const statuses = [];
    for (let i = 0; i < TOKEN.perClient + 1; i++) statuses.push((await tokenRequest(unknown, 'rls_guess', newAddress())).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  });

  test('the id sent with HTTP Basic or in the body, to /token, /token/revoke or /token/introspect: one budget', async () => {
    const client = await newClient();
    const basic = `Basic ${Buffer.from(`${client.id}:rls_wrong`).toString('base64')}`;
    const statuses = [
      (await ctx.app.inject({ method: 'POST', url: '/token', remoteAddress: newAddress(), headers: { authorization: basic }, payload: { grant_type: 'client_credentials' } })).statusCode,
      (await tokenRequest(client.id, 'rls_wrong', newAddress(), '/token/revoke')).statusCode,
      (await tokenRequest(client.id, 'rls_wrong', newAddress(), '/token/introspect')).statusCode,
      (await tokenRequest(client.id, client.secret, newAddress(), '/token/introspect')).statusCode,
      (await ctx.app.inject({
        method: 'POST', url: '/token', remoteAddress: newAddress(), headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=client_credentials&client_id=${client.id}&client_secret=${client.secret}`,
      })).statusCode,
      (await tokenRequest(client.id, client.secret, newAddress(), '/token/revoke')).statusCode,
    ];
    assert.deepEqual(statuses, [401, 401, 401, 200, 200, 429]);
  });
});

describe('attempts per address', () => {
  test('an address trying many client ids is refused past its budget; another address is not', async () => {
    const address = newAddress();
    const before = Date.now();
    const statuses = [];
    for (let i = 0; i < TOKEN.perAddress; i++) statuses.push((await tokenRequest(`rlc_${randomBytes(12).toString('hex')}`, 'rls_guess', address)).statusCode);
    assert.deepEqual(statuses, Array(TOKEN.perAddress).fill(401));
    const client = await newClient();
    assertTokenRateLimited(await tokenRequest(client.id, client.secret, address), TOKEN.perAddress, /^Too many attempts from this address/, before, Date.now());
    assert.equal((await tokenRequest(client.id, client.secret, newAddress())).statusCode, 200);
  });

  test('of 12 + 8 concurrent attempts from one address exactly 12 are answered; refused ones cost the client ids nothing', async () => {
    const address = newAddress();
    const clients = await Promise.all(Array.from({ length: 4 }, () => newClient()));
    const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) => tokenRequest(clients[i % 4]!.id, 'rls_wrong', address)));
    assert.deepEqual(statusCounts(attempts), { 401: 12, 429: 8 });
    // Refused on the address, before the client id was counted: the clients took 12 attempts in all.
    let counted = 0;
    for (const client of clients) {
      const response = await tokenRequest(client.id, client.secret, newAddress());
      assert.equal(response.statusCode, 200);
      counted += TOKEN.perClient - 1 - budget(response).remaining;
    }
    assert.equal(counted, 12);
  });

  test('one IPv6 /64 is one address, and an IPv4-mapped address is its IPv4 address', async () => {
    assert.equal(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
    assert.equal(addressKey('::ffff:203.0.113.9'), '203.0.113.9');
    assert.equal(addressKey('203.0.113.9'), '203.0.113.9');
    const statuses = [];
    for (let i = 0; i <= TOKEN.perAddress; i++) {
      statuses.push((await tokenRequest(`rlc_${randomBytes(12).toString('hex')}`, 'rls_guess', `2001:db8:7:7::${(i + 1).toString(16)}`)).statusCode);
    }
    assert.deepEqual(statuses, [...Array(TOKEN.perAddress).fill(401), 429]);
  });

  test('X-Forwarded-For is believed only from TRUST_PROXY\'s proxies', async () => {
    const sends = (app: typeof ctx.app, remoteAddress: string) => Promise.all(Array.from({ length: TOKEN.perAddress + 1 }, (_, i) =>
      app.inject({
        method: 'POST', url: '/token', remoteAddress, headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
        payload: { grant_type: 'client_credentials', client_id: `rlc_${randomBytes(12).toString('hex')}`, client_secret: 'rls_guess' },
      })));
    assert.deepEqual(statusCounts(await sends(ctx.app, newAddress())), { 401: TOKEN.perAddress, 429: 1 }, 'a client cannot pick its address');
    const behindProxy = await buildApp({
      pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage: ctx.storage, rateLimits: { ...GENEROUS_RATE_LIMITS, token: TOKEN },
      trustProxy: ['192.0.2.0/24'],
    });
    after(() => behindProxy.close());
    assert.deepEqual(statusCounts(await sends(behindProxy, newAddress())), { 401: TOKEN.perAddress + 1 }, 'behind the proxy, each client its own budget');
  });
});

test('a token answer shows the budget that runs out first', async () => {
  const client = await newClient();
  const address = newAddress();
  const first = await tokenRequest(client.id, client.secret, address);
  assert.equal(first.statusCode, 200);
  assert.deepEqual({ limit: budget(first).limit, remaining: budget(first).remaining }, { limit: TOKEN.perClient, remaining: TOKEN.perClient - 1 });
  // A request naming no client counts on the address only.
  const anonymous = await ctx.app.inject({ method: 'POST', url: '/token', remoteAddress: address, payload: { grant_type: 'client_credentials' } });
  assert.equal(anonymous.statusCode, 401);
  assert.deepEqual({ limit: budget(anonymous).limit, remaining: budget(anonymous).remaining }, { limit: TOKEN.perAddress, remaining: TOKEN.perAddress - 2 });
});
