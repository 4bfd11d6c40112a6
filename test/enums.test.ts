import assert from 'node:assert/strict';
import { test } from 'node:test';
import { securityCases } from './helpers/security.js';
import { API, body, setup } from './helpers/setup.js';

const ctx = await setup();

test('GET /enums lists every enum to any valid token, whatever its scopes', async () => {
  const tenant = await ctx.tenant(['payments:write']);
  const response = await ctx.app.inject({ method: 'GET', url: `${API}/enums`, headers: tenant.auth });
  assert.equal(response.statusCode, 200);
  const json = body(response);
  assert.equal(json.message, 'Success');
  assert.deepEqual(json.data.followup_types, ['call', 'sms', 'email', 'whatsapp', 'voicemail', 'manual_call', 'physical', 'postmail']);
  assert.deepEqual(json.data.followup_statuses, [
    'on_hold', 'scheduled', 'in_progress', 'sent', 'delivered', 'read', 'deal_found', 'no_answer', 'deal_not_found', 'bad_behavior', 'failed', 'cancelled',
  ]);
  assert.equal(json.data.followup_writable_statuses.includes('read'), false);
  assert.equal(json.data.followup_writable_statuses.length, 11);
  assert.deepEqual(json.data.followup_directions, ['inbound', 'outbound']);
  assert.deepEqual(json.data.followup_sorts, ['-activity_date', 'activity_date', '-updated_at', 'updated_at']);
  assert.ok(json.data.debt_statuses.includes('status.default.pending'));
  assert.deepEqual(json.data.scopes, ['followups:read', 'followups:write', 'debts:read', 'debts:write', 'payments:read', 'payments:write', 'webhooks:read', 'webhooks:write']);
  assert.ok(json.data.webhook_events.includes('payment.received'));
});

test('GET /enums without a valid token is 401', async () => {
  const response = await ctx.app.inject({ method: 'GET', url: `${API}/enums`, headers: { authorization: 'Bearer nope' } });
  assert.equal(response.statusCode, 401);
  assert.equal(body(response).message, 'Authentication credentials are missing or invalid');
});

securityCases(ctx, 'enums', {
  endpoints: [{ method: 'GET', path: '/enums' }],
});
