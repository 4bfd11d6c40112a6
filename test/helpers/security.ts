import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';
import type { IdType } from '../../src/security/encrypted-id.js';
import { API, body, type Tenant, type TestContext } from './setup.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Endpoint {
  method: Method;
  /** Under /external-api/v1; `:id` stands for an object of the caller, of the kind `names`. */
  path: string;
  /** The scope it needs; none: any valid token will do. */
  scope?: Scope;
  /** The kind of object `:id` (or the body) names; default: the feature's first kind. */
  names?: string;
  /** A valid body, given the id of the object the path names. */
  payload?: (id: string) => unknown;
}

export interface SecuredFeature {
  /**
   * Each kind of object the endpoints name, by its name in messages ("debt": "Access denied to
   * this debt", "Debt not found"): how to make one for a tenant, and read it back as its owner.
   */
  kinds?: Record<string, { make: (owner: Tenant) => Promise<string>; read: (owner: Tenant, id: string) => Promise<unknown> }>;
  endpoints: Endpoint[];
}

const capitalised = (kind: string) => kind[0]!.toUpperCase() + kind.slice(1);

/**
 * The cases every route must hold, run for every endpoint of a feature: no token, a malformed or
 * forged one (401 with WWW-Authenticate); a token without the scope (403 naming it); another
 * company's object (403, and the object is unchanged); an id that names nothing of its kind (an
 * id of another kind, of no row, or not an id at all: 404).
 */
export function securityCases(ctx: TestContext, feature: string, spec: SecuredFeature): void {
  const kinds = spec.kinds ?? {};
  const kindOf = (endpoint: Endpoint) => endpoint.names ?? Object.keys(kinds)[0]!;
  const make = (endpoint: Endpoint, owner: Tenant) => kinds[kindOf(endpoint)]?.make(owner) ?? Promise.resolve('');
  /** The whole body, exactly: the error envelope and nothing else. */
  const refused = (response: { statusCode: number; body: string }, code: number, message: string, what: string) => {
    assert.equal(response.statusCode, code, what);
    assert.equal(response.body, JSON.stringify({ error: true, message, code }), what);
  };
  const call = (endpoint: Endpoint, id: string, headers: Record<string, string>) => {
    const payload = endpoint.payload?.(id);
    return ctx.app.inject({
      method: endpoint.method,
      url: `${API}${endpoint.path.replace(':id', encodeURIComponent(id))}`,
      headers: { ...headers, ...(payload !== undefined && { 'content-type': 'application/json' }) },
      ...(payload !== undefined && { payload: JSON.stringify(payload) }),
    });
  };
  const label = (endpoint: Endpoint) => `${endpoint.method} ${endpoint.path}`;
  const naming = spec.endpoints.filter((e) => e.path.includes(':id'));

  describe(`${feature}: the security cases of every endpoint`, () => {
    test('no token, a malformed or a forged one: 401 with WWW-Authenticate', async () => {
      const tenant = await ctx.tenant();
      const forged = tenant.token.slice(0, -4) + (tenant.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      for (const endpoint of spec.endpoints) {
        const id = await make(endpoint, tenant);
        for (const authorization of [undefined, 'Bearer', `Bearer ${forged}`, `Basic ${tenant.token}`]) {
          const response = await call(endpoint, id, authorization ? { authorization } : {});
          refused(response, 401, 'Authentication credentials are missing or invalid', `${label(endpoint)} with ${authorization}`);
          assert.match(String(response.headers['www-authenticate']), /^Bearer/);
        }
      }
    });

    const scoped = spec.endpoints.filter((e) => e.scope);
    if (scoped.length > 0) test('a token without the scope: 403 naming it', async () => {
      const tenant = await ctx.tenant();
      for (const endpoint of scoped) {
        const id = await make(endpoint, tenant);
        const others = SCOPES.filter((s) => s !== endpoint.scope);
        const token = body(await ctx.app.inject({
          method: 'POST', url: '/token',
          payload: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret, scope: others.join(' ') },
        })).access_token;
        const kind = kinds[kindOf(endpoint)];
        const before = endpoint.path.includes(':id') ? await kind?.read(tenant, id) : undefined;
        const response = await call(endpoint, id, { authorization: `Bearer ${token}` });
        refused(response, 403, `Required scope "${endpoint.scope}" not found in token`, label(endpoint));
        if (endpoint.path.includes(':id')) assert.deepEqual(await kind?.read(tenant, id), before, `${label(endpoint)} changed nothing`);
      }
    });

    if (naming.length === 0) return;
    test("another company's object: 403, and it is left unchanged", async () => {
      const owner = await ctx.tenant();
      const intruder = await ctx.tenant();
      for (const endpoint of naming) {
        const kind = kindOf(endpoint);
        const id = await kinds[kind]!.make(owner);
        const before = await kinds[kind]!.read(owner, id);
        refused(await call(endpoint, id, intruder.auth), 403, `Access denied to this ${kind}`, label(endpoint));
        assert.deepEqual(await kinds[kind]!.read(owner, id), before, `${label(endpoint)} changed nothing`);
      }
    });

    test('an id of another kind, of nothing, or not an id: 404', async () => {
      const tenant = await ctx.tenant();
      for (const endpoint of naming) {
        const kind = kindOf(endpoint);
        const otherKind = kind === 'debt' ? 'followup' : 'debt';
        const ofOtherKind = ctx.ids.encode(otherKind, 1);
        for (const id of [ofOtherKind, ctx.ids.encode(kind as IdType, 2 ** 40), 'garbage']) {
          refused(await call(endpoint, id, tenant.auth), 404, `${capitalised(kind)} not found`, `${label(endpoint)} with ${id}`);
        }
      }
    });
  });
}
