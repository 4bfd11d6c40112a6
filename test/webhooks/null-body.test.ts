/**
 * Review of issue 10: POST /webhooks and PATCH /webhooks/{id} answer 500 to a JSON body of
 * `null`, and to a request with no body at all (no Content-Type): the schema's verdict is
 * attached (attachValidation) and the service then reads `body.url` of null. Every other JSON
 * endpoint answers these with 400 `Request body must be a JSON object`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API, body } from '../helpers/setup.js';
import { webhookClient, webhookSetup } from '../helpers/webhooks.js';

const ctx = await webhookSetup();
const api = webhookClient(ctx);

test('a null or missing body is a 400 naming the body, on create and on update', async () => {
  const tenant = await ctx.tenant();
  const { id } = await api.created(tenant, { url: 'https://hooks.example.com/relance', events: ['debt.created'] });
  const json = { ...tenant.auth, 'content-type': 'application/json' };
  const cases = [
    { method: 'POST' as const, url: `${API}/webhooks`, headers: json, payload: 'null' },
    { method: 'POST' as const, url: `${API}/webhooks`, headers: tenant.auth },
    { method: 'PATCH' as const, url: `${API}/webhooks/${id}`, headers: json, payload: 'null' },
    { method: 'PATCH' as const, url: `${API}/webhooks/${id}`, headers: tenant.auth },
  ];
  for (const request of cases) {
    const response = await ctx.app.inject(request);
    assert.equal(response.statusCode, 400, `${request.method} ${request.url} ${request.payload ?? '(no body)'}: ${response.body}`);
    assert.equal(body(response).details.body, 'Request body must be a JSON object');
  }
});
