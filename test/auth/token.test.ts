import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenSealer } from '../../src/auth/access-token.js';
import { SCOPES } from '../../src/auth/scopes.js';
import { API, body, setup, type Response, type Tenant } from '../helpers/setup.js';

const ctx = await setup();
const sealer = new TokenSealer(ctx.keys.tokens);
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function postToken(payload: string | object, headers: Record<string, string> = {}): Promise<Response> {
  return ctx.app.inject({
    method: 'POST',
    url: '/token',
    headers: typeof payload === 'string' ? { ...FORM, ...headers } : headers,
    payload,
  });
}

function basic(id: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` };
}

/** Percent-encodes every character, which a form-urlencoded Basic part may do (RFC 6749 §2.3.1). */
function percentEncodeAll(text: string): string {
  return [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`).join('');
}

function credentials(tenant: Tenant) {
  return { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret };
}

/** An RFC 6749 §5.2 error: exactly `error` and `error_description`, never cached. */
function assertOAuthError(response: Response, status: number, error: string): void {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assert.equal(response.headers['cache-control'], 'no-store');
  const json = body(response);
  assert.deepEqual(Object.keys(json), ['error', 'error_description']);
  assert.equal(json.error, error);
  assert.equal(typeof json.error_description, 'string');
  assert.ok(json.error_description.length > 0);
  if (status === 401) assert.match(String(response.headers['www-authenticate']), /^Basic realm="relance"/);
}

/** A successful token response; returns the verified claims of the token. */
function assertGranted(response: Response, scope: string) {
  assert.equal(response.statusCode, 200, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers.pragma, 'no-cache');
  const json = body(response);
  assert.deepEqual(Object.keys(json), ['access_token', 'token_type', 'expires_in', 'scope']);
  assert.equal(json.token_type, 'Bearer');
  assert.equal(json.expires_in, 3600);
  assert.equal(json.scope, scope);
  assert.equal(typeof json.access_token, 'string');
  const claims = sealer.verify(json.access_token);
  assert.ok(claims, 'the access token verifies');
  return { token: json.access_token as string, claims };
}

/** A request only a valid token with followups:read gets past: unknown id, so 404 rather than 401/403. */
async function readUnknownFollowup(token: string): Promise<Response> {
  return ctx.app.inject({
    method: 'GET',
    url: `${API}/followups/${ctx.ids.encode('followup', 2 ** 50)}`,
    headers: { authorization: `Bearer ${token}` },
  });
}

describe('POST /token: the three ways to send client credentials', () => {
  test('form-encoded body', async () => {
    const tenant = await ctx.tenant();
    const before = Math.floor(Date.now() / 1000);
    const { token, claims } = assertGranted(await postToken(form(credentials(tenant))), SCOPES.join(' '));
    assert.equal(claims.companyId, tenant.companyId);
    assert.equal(claims.clientId, tenant.clientId);
    assert.deepEqual(claims.scopes, [...SCOPES]);
    assert.ok(claims.exp >= before + 3600 && claims.exp <= Math.ceil(Date.now() / 1000) + 3600, 'expires in one hour');
    assert.equal((await readUnknownFollowup(token)).statusCode, 404);
  });

  test('JSON body', async () => {
    const tenant = await ctx.tenant(['followups:read']);
    const { token, claims } = assertGranted(await postToken(credentials(tenant)), 'followups:read');
    assert.equal(claims.companyId, tenant.companyId);
    assert.equal((await readUnknownFollowup(token)).statusCode, 404);
  });

  test('HTTP Basic, with the grant in a form body or a JSON body', async () => {
    const tenant = await ctx.tenant(['followups:read', 'followups:write']);
    const auth = basic(tenant.clientId, tenant.clientSecret);
    const viaForm = assertGranted(await postToken(form({ grant_type: 'client_credentials' }), auth), 'followups:read followups:write');
    assert.equal(viaForm.claims.companyId, tenant.companyId);
    const viaJson = assertGranted(await postToken({ grant_type: 'client_credentials' }, auth), 'followups:read followups:write');
    assert.equal((await readUnknownFollowup(viaJson.token)).statusCode, 404);
  });

  test('HTTP Basic: the scheme is case-insensitive and each part is form-urlencoded (RFC 6749 §2.3.1)', async () => {
    const tenant = await ctx.tenant(['debts:read']);
    const lower = { authorization: `basic ${Buffer.from(`${tenant.clientId}:${tenant.clientSecret}`).toString('base64')}` };
    assertGranted(await postToken(form({ grant_type: 'client_credentials' }), lower), 'debts:read');
    const encoded = basic(percentEncodeAll(tenant.clientId), percentEncodeAll(tenant.clientSecret));
    assertGranted(await postToken(form({ grant_type: 'client_credentials' }), encoded), 'debts:read');
  });

  test('HTTP Basic with a wrong secret, no colon or bad percent-encoding is invalid_client', async () => {
    const tenant = await ctx.tenant();
    const grant = form({ grant_type: 'client_credentials' });
    assertOAuthError(await postToken(grant, basic(tenant.clientId, `${tenant.clientSecret}x`)), 401, 'invalid_client');
    assertOAuthError(await postToken(grant, basic(tenant.clientId, '')), 401, 'invalid_client');
    assertOAuthError(await postToken(grant, { authorization: `Basic ${Buffer.from(tenant.clientId).toString('base64')}` }), 401, 'invalid_client');
    assertOAuthError(await postToken(grant, basic(`${tenant.clientId}%zz`, tenant.clientSecret)), 401, 'invalid_client');
    assertOAuthError(await postToken(grant, basic(tenant.clientId, `${tenant.clientSecret}%`)), 401, 'invalid_client');
  });

  test('credentials both in Basic and in the body are invalid_request', async () => {
    const tenant = await ctx.tenant();
    const auth = basic(tenant.clientId, tenant.clientSecret);
    assertOAuthError(await postToken(form(credentials(tenant)), auth), 400, 'invalid_request');
    assertOAuthError(await postToken({ grant_type: 'client_credentials', client_id: tenant.clientId }, auth), 400, 'invalid_request');
    assertOAuthError(await postToken(form({ grant_type: 'client_credentials', client_secret: tenant.clientSecret }), auth), 400, 'invalid_request');
  });
});

describe('POST /token: scope', () => {
  test('default: every scope of the client, in the order it was given', async () => {
    const tenant = await ctx.tenant(['webhooks:read', 'followups:write', 'debts:read']);
    const { claims } = assertGranted(await postToken(form(credentials(tenant))), 'webhooks:read followups:write debts:read');
    assert.deepEqual(claims.scopes, ['webhooks:read', 'followups:write', 'debts:read']);
  });

  test('a subset is granted as asked; repeated and extra spaces are ignored', async () => {
    const tenant = await ctx.tenant(['followups:read', 'followups:write', 'debts:read']);
    assertGranted(await postToken(form({ ...credentials(tenant), scope: 'debts:read' })), 'debts:read');
    assertGranted(await postToken({ ...credentials(tenant), scope: 'followups:write followups:read' }), 'followups:write followups:read');
    // In a form body, `+` is a space.
    assertGranted(await postToken(`${form(credentials(tenant))}&scope=followups:read+debts:read`), 'followups:read debts:read');
    assertGranted(await postToken(form({ ...credentials(tenant), scope: '  debts:read   debts:read ' })), 'debts:read');
  });

  test('a scope the client does not hold, or no such scope, is invalid_scope, and names it', async () => {
    const tenant = await ctx.tenant(['followups:read']);
    for (const scope of ['followups:write', 'followups:read followups:write', 'admin', 'followups:*', 'FOLLOWUPS:READ', 'followups:read,debts:read']) {
      assertOAuthError(await postToken(form({ ...credentials(tenant), scope })), 400, 'invalid_scope');
    }
    const described = body(await postToken(form({ ...credentials(tenant), scope: 'followups:read debts:write' }))).error_description;
    assert.match(described, /debts:write/);
    assert.doesNotMatch(described, /followups:read/, 'a scope the client holds is not listed as refused');
  });

  test('an empty scope is invalid_scope', async () => {
    const tenant = await ctx.tenant(['followups:read']);
    assertOAuthError(await postToken(form({ ...credentials(tenant), scope: '' })), 400, 'invalid_scope');
    assertOAuthError(await postToken({ ...credentials(tenant), scope: '   ' }), 400, 'invalid_scope');
  });

  test('a token narrowed to some scopes cannot use the others', async () => {
    const tenant = await ctx.tenant(['followups:read', 'followups:write']);
    const { token } = assertGranted(await postToken(form({ ...credentials(tenant), scope: 'followups:read' })), 'followups:read');
    const create = await ctx.app.inject({
      method: 'POST',
      url: `${API}/followups`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ debt_id: await tenant.debt() }),
    });
    assert.equal(create.statusCode, 403);
    assert.equal(create.body, JSON.stringify({ error: true, message: 'Required scope "followups:write" not found in token', code: 403 }));
    assert.match(String(create.headers['www-authenticate']), /insufficient_scope/);
    assert.equal((await readUnknownFollowup(token)).statusCode, 404, 'the granted scope works');
  });
});

describe('POST /token: request errors', () => {
  test('a missing grant_type is invalid_request', async () => {
    const tenant = await ctx.tenant();
    const { grant_type: _, ...rest } = credentials(tenant);
    assertOAuthError(await postToken(form(rest)), 400, 'invalid_request');
    assertOAuthError(await postToken(rest), 400, 'invalid_request');
    assertOAuthError(await postToken({}), 400, 'invalid_request');
    assertOAuthError(await postToken(''), 400, 'invalid_request');
  });

  test('any other grant_type is unsupported_grant_type, checked before the client', async () => {
    const tenant = await ctx.tenant();
    for (const grant of ['password', 'authorization_code', 'refresh_token', 'CLIENT_CREDENTIALS', 'client_credentials ', '']) {
      assertOAuthError(await postToken(form({ ...credentials(tenant), grant_type: grant })), 400, 'unsupported_grant_type');
    }
    assertOAuthError(await postToken(form({ grant_type: 'password', username: 'a', password: 'b' })), 400, 'unsupported_grant_type');
  });

  test('a repeated parameter is invalid_request (RFC 6749 §3.2)', async () => {
    const tenant = await ctx.tenant(['followups:read']);
    const base = form(credentials(tenant));
    for (const extra of ['grant_type=client_credentials', `client_id=${tenant.clientId}`, `client_secret=${tenant.clientSecret}`, 'scope=followups:read&scope=followups:read']) {
      assertOAuthError(await postToken(`${base}&${extra}`), 400, 'invalid_request');
    }
    assertOAuthError(await postToken({ ...credentials(tenant), scope: ['followups:read'] }), 400, 'invalid_request');
    assertOAuthError(await postToken({ ...credentials(tenant), client_secret: 42 }), 400, 'invalid_request');
  });

  test('a body that is neither a form nor a JSON object is invalid_request', async () => {
    const tenant = await ctx.tenant();
    const text = form(credentials(tenant));
    const json = JSON.stringify(credentials(tenant));
    for (const [type, payload] of [['text/plain', text], ['application/xml', '<grant/>'], ['application/json', '[1]'], ['application/json', '"x"'], ['application/json', '{bad'],
      ['application/json', Buffer.from([0x7b, 0xff, 0x7d])], ['application/json; charset=utf-16', json], ['application/json', '{"__proto__": {}}']] as const) {
      const response = await ctx.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': type! }, payload });
      assertOAuthError(response, 400, 'invalid_request');
    }
  });

  test('GET /token is a 405 naming the method the path takes', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/token' });
    assert.equal(response.statusCode, 405);
    assert.equal(response.headers.allow, 'POST');
    assert.equal(body(response).error, true);
  });
});

describe('POST /token: client authentication', () => {
  test('unknown client, wrong secret or missing credentials is 401 invalid_client with WWW-Authenticate', async () => {
    const tenant = await ctx.tenant();
    const other = await ctx.tenant();
    const cases: Record<string, string>[] = [
      { grant_type: 'client_credentials' },
      { grant_type: 'client_credentials', client_id: tenant.clientId },
      { grant_type: 'client_credentials', client_secret: tenant.clientSecret },
      { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: '' },
      { grant_type: 'client_credentials', client_id: '', client_secret: tenant.clientSecret },
      { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: `${tenant.clientSecret}x` },
      { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret.slice(0, -1) },
      { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret.toUpperCase() },
      { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: other.clientSecret },
      { grant_type: 'client_credentials', client_id: 'rlc_000000000000000000000000', client_secret: tenant.clientSecret },
      { grant_type: 'client_credentials', client_id: tenant.clientId.toUpperCase(), client_secret: tenant.clientSecret },
      { grant_type: 'client_credentials', client_id: 'x'.repeat(10_000), client_secret: tenant.clientSecret },
      { grant_type: 'client_credentials', client_id: `${tenant.clientId}\u0000`, client_secret: tenant.clientSecret },
      { grant_type: 'client_credentials', client_id: `${tenant.clientId} `, client_secret: tenant.clientSecret },
      { grant_type: 'client_credentials', client_id: "' OR '1'='1", client_secret: "' OR '1'='1" },
    ];
    for (const fields of cases) {
      assertOAuthError(await postToken(form(fields)), 401, 'invalid_client');
      assertOAuthError(await postToken(fields), 401, 'invalid_client');
    }
  });

  test('the error does not say whether the client exists', async () => {
    const tenant = await ctx.tenant();
    const wrongSecret = await postToken(form({ ...credentials(tenant), client_secret: 'rls_wrong' }));
    const unknownClient = await postToken(form({ ...credentials(tenant), client_id: 'rlc_unknown' }));
    assert.equal(wrongSecret.body, unknownClient.body);
  });

  test('a disabled client gets no token', async () => {
    const tenant = await ctx.tenant();
    await ctx.pool.query('UPDATE api_clients SET disabled_at = now() WHERE client_id = $1', [tenant.clientId]);
    assertOAuthError(await postToken(form(credentials(tenant))), 401, 'invalid_client');
    assertOAuthError(await postToken(form({ grant_type: 'client_credentials' }), basic(tenant.clientId, tenant.clientSecret)), 401, 'invalid_client');
  });

  test('the client secret is stored only as a hash', async () => {
    const tenant = await ctx.tenant();
    const { rows } = await ctx.pool.query('SELECT * FROM api_clients WHERE client_id = $1', [tenant.clientId]);
    assert.equal(rows.length, 1);
    const row = rows[0] as Record<string, unknown>;
    const secretBody = tenant.clientSecret.slice(tenant.clientSecret.indexOf('_') + 1);
    assert.ok(secretBody.length >= 43, 'the secret carries at least 256 random bits');
    const representations = Object.values(row).flatMap((value) =>
      Buffer.isBuffer(value)
        ? [value.toString('utf8'), value.toString('latin1'), value.toString('hex'), value.toString('base64'), value.toString('base64url')]
        : [JSON.stringify(value)],
    );
    for (const text of representations) {
      assert.ok(!text.includes(secretBody), 'the secret text is nowhere in the row');
      assert.ok(!text.includes(Buffer.from(secretBody, 'base64url').toString('hex')), 'nor its raw bytes');
    }
    const hash = row.secret_hash;
    assert.ok(Buffer.isBuffer(hash) && hash.length === 32, 'a 256-bit digest');
    const { rows: whole } = await ctx.pool.query("SELECT row_to_json(c)::text AS text FROM api_clients c WHERE client_id = $1", [tenant.clientId]);
    assert.ok(!whole[0].text.includes(secretBody));
  });

  test('the credentials of one company give a token for that company only', async () => {
    const a = await ctx.tenant();
    const b = await ctx.tenant();
    assert.equal(assertGranted(await postToken(form(credentials(a))), SCOPES.join(' ')).claims.companyId, a.companyId);
    assert.equal(assertGranted(await postToken(form(credentials(b))), SCOPES.join(' ')).claims.companyId, b.companyId);
  });
});

describe('access tokens on the API', () => {
  test('an expired token is 401 with WWW-Authenticate: Bearer', async () => {
    const tenant = await ctx.tenant();
    const claims = sealer.verify(tenant.token)!;
    const { token: expired } = sealer.issue(claims, Date.now() - 3601 * 1000);
    const response = await readUnknownFollowup(expired);
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers['www-authenticate']), /^Bearer/);
    assert.equal(response.body, JSON.stringify({ error: true, message: 'Authentication credentials are missing or invalid', code: 401 }));
    const { token: fresh } = sealer.issue(claims, Date.now() - 3500 * 1000);
    assert.equal((await readUnknownFollowup(fresh)).statusCode, 404, 'a token issued less than an hour ago still works');
  });

  test('a token signed with another server key is 401', async () => {
    const tenant = await ctx.tenant();
    const claims = sealer.verify(tenant.token)!;
    const { token } = new TokenSealer(Buffer.alloc(32, 1)).issue(claims);
    assert.equal((await readUnknownFollowup(token)).statusCode, 401);
  });

  test('the Bearer scheme is case-insensitive; the token itself is not', async () => {
    const tenant = await ctx.tenant();
    const get = (authorization: string) =>
      ctx.app.inject({ method: 'GET', url: `${API}/followups/${ctx.ids.encode('followup', 2 ** 50)}`, headers: { authorization } });
    assert.equal((await get(`bearer ${tenant.token}`)).statusCode, 404);
    assert.equal((await get(`BEARER  ${tenant.token}`)).statusCode, 404);
    assert.equal((await get(`Bearer ${tenant.token.toUpperCase()}`)).statusCode, 401);
    assert.equal((await get(`Bearer ${tenant.token}x`)).statusCode, 401);
    assert.equal((await get(`Bearer ${tenant.token}=`)).statusCode, 401);
  });
});
