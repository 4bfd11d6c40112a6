/**
 * Client lifecycle as the API sees it: a disabled client's tokens stop at once (not an hour
 * later), a scope taken from a client ends its tokens (for good), a rotated secret ends the old
 * secret and its tokens, RFC 7009 revocation and RFC 7662 introspection; and the check costs no
 * database round trip per request.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { ClientStates } from '../../src/auth/client-states.js';
import { findClientByClientId, replaceClientSecret, setClientDisabled, setClientScopes } from '../../src/auth/clients-repository.js';
import { hashSecret } from '../../src/security/secrets.js';
import { waitFor } from '../helpers/processes.js';
import { API, GENEROUS_RATE_LIMITS, body, setup, type Tenant } from '../helpers/setup.js';

const ctx = await setup();
// An app that would trust its cached client state for a minute: anything quicker than that
// below is the change announcement at work.
const app = await buildApp({ pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), clientStateTtlMs: 60_000, storage: ctx.storage, rateLimits: GENEROUS_RATE_LIMITS });
await app.ready();
after(() => app.close());

const enums = (authorization: string) => app.inject({ method: 'GET', url: `${API}/enums`, headers: { authorization } });
const tokenOf = async (clientId: string, secret: string, scope?: string) => {
  const response = await app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, ...(scope && { scope }) } });
  return { status: response.statusCode, json: body(response), bearer: `Bearer ${body(response).access_token}` };
};
const oauth = (path: string, tenant: Tenant, payload: Record<string, string>) =>
  app.inject({ method: 'POST', url: path, payload: { client_id: tenant.clientId, client_secret: tenant.clientSecret, ...payload } });
/** Polls until `check` holds; the bound is far below the 60 s the cache would otherwise keep a state. */
const soon = (what: string, check: () => Promise<boolean>) => waitFor(what, async () => ((await check()) ? true : undefined), 5_000);

describe('client lifecycle', () => {
  test('a disabled client: its tokens stop at once, it gets no new one; enabled again, only new tokens work', async () => {
    const tenant = await ctx.tenant();
    assert.equal((await enums(tenant.auth.authorization)).statusCode, 200, 'the state is now cached');
    await setClientDisabled(tenant.clientId, true, ctx.pool);
    await soon('the disabled client\'s token to be refused', async () => (await enums(tenant.auth.authorization)).statusCode === 401);
    assert.equal((await tokenOf(tenant.clientId, tenant.clientSecret)).status, 401);

    await setClientDisabled(tenant.clientId, false, ctx.pool);
    const fresh = await tokenOf(tenant.clientId, tenant.clientSecret);
    assert.equal(fresh.status, 200);
    await soon('a new token to work', async () => (await enums(fresh.bearer)).statusCode === 200);
    assert.equal((await enums(tenant.auth.authorization)).statusCode, 401, 'a token from before the disable stays dead');
  });

  test('a scope taken from a client ends its live tokens at once, and giving it back does not revive them', async () => {
    const tenant = await ctx.tenant(['followups:read', 'debts:read']);
    const list = (path: string, authorization = tenant.auth.authorization) => app.inject({ method: 'GET', url: `${API}${path}`, headers: { authorization } });
    assert.equal((await list('/followups')).statusCode, 200);
    await setClientScopes(tenant.clientId, ['debts:read'], ctx.pool);
    await soon('the live token to be refused', async () => (await list('/debts')).statusCode === 401);
    const fresh = await tokenOf(tenant.clientId, tenant.clientSecret);
    assert.equal(fresh.json.scope, 'debts:read');
    assert.equal((await list('/debts', fresh.bearer)).statusCode, 200);
    assert.equal(body(await list('/followups', fresh.bearer)).message, 'Required scope "followups:read" not found in token');

    await setClientScopes(tenant.clientId, ['followups:read', 'debts:read'], ctx.pool);
    await soon('the change to be seen', async () => (await list('/followups', (await tokenOf(tenant.clientId, tenant.clientSecret)).bearer)).statusCode === 200);
    assert.equal((await list('/followups')).statusCode, 401, 'the token from before the cut stays dead');
    assert.equal((await list('/debts', fresh.bearer)).statusCode, 200, 'adding scopes leaves live tokens alive');
    assert.equal((await list('/followups', fresh.bearer)).statusCode, 403, 'without the scopes added after they were issued');
  });

  test('a rotated secret: the old one and the tokens it got stop working, the new one works', async () => {
    const tenant = await ctx.tenant();
    await replaceClientSecret(tenant.clientId, hashSecret(ctx.keys.secrets, 'rls_new-secret'), ctx.pool);
    await soon('the old token to be refused', async () => (await enums(tenant.auth.authorization)).statusCode === 401);
    assert.equal((await tokenOf(tenant.clientId, tenant.clientSecret)).status, 401);
    const fresh = await tokenOf(tenant.clientId, 'rls_new-secret');
    assert.equal((await enums(fresh.bearer)).statusCode, 200);
  });

  test('checking a token costs no database round trip once its client is known', async () => {
    const tenant = await ctx.tenant();
    assert.equal((await enums(tenant.auth.authorization)).statusCode, 200);
    let acquired = 0;
    const count = () => acquired++;
    ctx.pool.on('acquire', count);
    try {
      for (let i = 0; i < 50; i++) assert.equal((await enums(tenant.auth.authorization)).statusCode, 200);
    } finally {
      ctx.pool.off('acquire', count);
    }
    assert.equal(acquired, 0);
  });

  test('without announcements, a process trusts what it read of a client for at most its TTL', async () => {
    const tenant = await ctx.tenant();
    const client = (await findClientByClientId(tenant.clientId, ctx.pool))!;
    // Long enough for the change and the second read to fall inside it on a busy machine.
    const ttl = 3_000;
    const states = new ClientStates(ctx.pool, ttl, pino({ level: 'silent' }));
    after(() => states.close());
    // The entry expires ttl after its read ends, so no sooner than ttl after this.
    const read = Date.now();
    assert.equal((await states.get(client.id))?.disabled, false);
    await setClientDisabled(tenant.clientId, true, ctx.pool);
    assert.equal((await states.get(client.id))?.disabled, false, 'not listening: the cached state is used');
    await waitFor('the cached state to expire', async () => ((await states.get(client.id))?.disabled ? true : undefined), 10 * ttl);
    assert.ok(Date.now() - read >= ttl, 'not before its TTL');
  });
});

describe('POST /token/revoke (RFC 7009)', () => {
  test('revokes that token only, at once; 200 for a token that is invalid or not the caller\'s', async () => {
    const tenant = await ctx.tenant();
    const other = await ctx.tenant();
    const second = await tokenOf(tenant.clientId, tenant.clientSecret);
    assert.equal((await enums(tenant.auth.authorization)).statusCode, 200);

    const someoneElse = await oauth('/token/revoke', other, { token: tenant.token });
    assert.equal(someoneElse.statusCode, 200);
    assert.equal((await enums(tenant.auth.authorization)).statusCode, 200, 'another client cannot revoke it');

    const revoked = await oauth('/token/revoke', tenant, { token: tenant.token });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal(revoked.headers['cache-control'], 'no-store');
    assert.equal((await enums(tenant.auth.authorization)).statusCode, 401, 'revoked, in this process at once');
    assert.equal((await enums(second.bearer)).statusCode, 200, 'its other tokens live on');
    assert.equal((await oauth('/token/revoke', tenant, { token: tenant.token })).statusCode, 200, 'twice is fine');
    assert.equal((await oauth('/token/revoke', tenant, { token: 'rl_at_nonsense' })).statusCode, 200);
  });

  test('needs client authentication and a token', async () => {
    const tenant = await ctx.tenant();
    const anonymous = await app.inject({ method: 'POST', url: '/token/revoke', payload: { token: tenant.token } });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(body(anonymous).error, 'invalid_client');
    const wrong = await app.inject({ method: 'POST', url: '/token/revoke', payload: { token: tenant.token, client_id: tenant.clientId, client_secret: 'rls_wrong' } });
    assert.equal(wrong.statusCode, 401);
    const missing = await oauth('/token/revoke', tenant, {});
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(body(missing), { error: 'invalid_request', error_description: 'token is required' });
    assert.equal((await enums(tenant.auth.authorization)).statusCode, 200);
  });

  test('with HTTP Basic and a form body, as RFC 7009 shows it', async () => {
    const tenant = await ctx.tenant();
    const response = await app.inject({
      method: 'POST',
      url: '/token/revoke',
      headers: {
        authorization: `Basic ${Buffer.from(`${tenant.clientId}:${tenant.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: `token=${encodeURIComponent(tenant.token)}&token_type_hint=access_token`,
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal((await enums(tenant.auth.authorization)).statusCode, 401);
  });
});

describe('POST /token/introspect (RFC 7662)', () => {
  test('an active token of the caller\'s company is described; anything else is {"active": false}', async () => {
    const tenant = await ctx.tenant(['followups:read', 'debts:read']);
    const colleague = await tokenOf(tenant.clientId, tenant.clientSecret, 'debts:read');
    const active = body(await oauth('/token/introspect', tenant, { token: colleague.json.access_token }));
    assert.deepEqual(Object.keys(active), ['active', 'scope', 'client_id', 'token_type', 'exp', 'iat', 'sub']);
    assert.equal(active.active, true);
    assert.equal(active.scope, 'debts:read');
    assert.equal(active.client_id, tenant.clientId);
    assert.equal(active.exp - active.iat, 3600);

    const stranger = await ctx.tenant();
    assert.deepEqual(body(await oauth('/token/introspect', stranger, { token: colleague.json.access_token })), { active: false }, 'another company learns nothing');
    assert.deepEqual(body(await oauth('/token/introspect', tenant, { token: 'rl_at_x' })), { active: false });
    await oauth('/token/revoke', tenant, { token: colleague.json.access_token });
    assert.deepEqual(body(await oauth('/token/introspect', tenant, { token: colleague.json.access_token })), { active: false });
    await setClientDisabled(tenant.clientId, true, ctx.pool);
    const disabled = await app.inject({ method: 'POST', url: '/token/introspect', payload: { token: tenant.token, client_id: tenant.clientId, client_secret: tenant.clientSecret } });
    assert.equal(disabled.statusCode, 401, 'a disabled client cannot introspect');
  });

  test('needs client authentication and a token', async () => {
    const tenant = await ctx.tenant();
    assert.equal((await app.inject({ method: 'POST', url: '/token/introspect', payload: { token: tenant.token } })).statusCode, 401);
    assert.equal((await oauth('/token/introspect', tenant, {})).statusCode, 400);
    assert.equal(body(await oauth('/token/introspect', tenant, { token: randomBytes(8).toString('hex') })).active, false);
  });
});
