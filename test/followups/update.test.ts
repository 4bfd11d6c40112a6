import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = followupClient(ctx);

describe('update followup', () => {
  test('only the fields sent change; the response is the full object', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, {
      debt_id: await tenant.debt(), type: 'call', status: 'scheduled', scheduled_at: '2024-01-22T10:00:00Z', summary: 'Planned', notes: 'Keep me',
    });
    const response = await api.update(tenant.auth, created.id, { status: 'deal_found', call_date: '2024-01-22T12:30:00+02:00', duration_ms: 180000, direction: 'outbound' });
    assert.equal(response.statusCode, 200, response.body);
    const json = body(response);
    assert.equal(json.error, false);
    assert.equal(json.message, 'Followup updated successfully');
    assert.equal(json.data.id, created.id);
    assert.equal(json.data.status, 'deal_found');
    assert.equal(json.data.call_date, '2024-01-22T10:30:00+00:00');
    assert.equal(json.data.duration_ms, 180000);
    assert.equal(json.data.direction, 'outbound');
    assert.equal(json.data.summary, 'Planned');
    assert.equal(json.data.notes, 'Keep me');
    assert.equal(json.data.scheduled_at, '2024-01-22T10:00:00+00:00');
    assert.equal(json.data.triggered_payment, false);
    assert.equal(json.data.email_open_count, 0);
    assert.deepEqual(body(await api.get(tenant.auth, created.id)).data, json.data);
  });

  test('PATCH behaves as PUT', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, { debt_id: await tenant.debt(), summary: 'a', notes: 'b' });
    const response = await api.update(tenant.auth, created.id, { summary: 'c' }, 'PATCH');
    assert.equal(response.statusCode, 200);
    assert.equal(body(response).data.summary, 'c');
    assert.equal(body(response).data.notes, 'b');
  });

  test('null clears a nullable field', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, {
      debt_id: await tenant.debt(), summary: 'x', scheduled_at: '2024-01-01', duration_ms: 5, direction: 'inbound', call_id: 'c-1',
    });
    const response = await api.update(tenant.auth, created.id, { summary: null, scheduled_at: null, duration_ms: null, direction: null, call_id: null });
    assert.equal(response.statusCode, 200, response.body);
    const data = body(response).data;
    for (const field of ['summary', 'scheduled_at', 'duration_ms', 'direction', 'call_id']) assert.equal(data[field], null, field);
  });

  test('non-nullable fields refuse null; debt_id and read are refused; all errors at once', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, { debt_id: await tenant.debt() });
    const response = await api.update(tenant.auth, created.id, {
      debt_id: await tenant.debt(), status: 'read', type: null, is_retry: null, call_date: 'soon', duration_ms: -5,
    });
    assert.equal(response.statusCode, 400);
    const json = body(response);
    assert.equal(json.message, 'Validation failed');
    assert.deepEqual(Object.keys(json.details).sort(), ['call_date', 'debt_id', 'duration_ms', 'is_retry', 'status', 'type']);
    assert.equal(json.details.call_date, 'Invalid call_date format. Use ISO 8601');
    assert.equal(json.details.type, 'Invalid followup type. Valid types are: call, sms, email, whatsapp, voicemail, manual_call, physical, postmail');
    assert.match(json.details.status, /^Invalid followup status\. Valid statuses are: on_hold, scheduled, .*cancelled$/);
    assert.match(json.details.debt_id, /debt_id cannot be changed/);
    const unchanged = body(await api.get(tenant.auth, created.id)).data;
    assert.equal(unchanged.status, 'on_hold');
  });

  test('processed_at moves forward on every update', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, { debt_id: await tenant.debt() });
    await ctx.pool.query("UPDATE followups SET processed_at = now() - interval '1 hour' WHERE id = $1", [ctx.ids.decode('followup', created.id)]);
    const updated = body(await api.update(tenant.auth, created.id, { notes: 'n' })).data;
    assert.ok(Date.parse(updated.processed_at) >= Date.parse(created.processed_at));
  });

  test('concurrent updates of different fields of one followup never lose a field', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, { debt_id: await tenant.debt() });
    const changes: Record<string, unknown>[] = [
      { summary: 'S' }, { notes: 'N' }, { call_id: 'CALL' }, { duration_ms: 42 }, { phone_number_used: '+33123456789' },
      { direction: 'inbound' }, { disconnection_reason: 'hangup' }, { is_retry: true }, { type: 'sms' }, { status: 'no_answer' },
      { scheduled_at: '2024-05-01T08:00:00Z' }, { call_date: '2024-05-01T09:00:00Z' }, { audio_url: 'https://example.com/r.mp3' },
    ];
    const responses = await Promise.all(changes.map((change) => api.update(tenant.auth, created.id, change)));
    for (const response of responses) assert.equal(response.statusCode, 200, response.body);
    const data = body(await api.get(tenant.auth, created.id)).data;
    assert.deepEqual(
      { summary: data.summary, notes: data.notes, call_id: data.call_id, duration_ms: data.duration_ms, phone_number_used: data.phone_number_used, direction: data.direction, disconnection_reason: data.disconnection_reason, is_retry: data.is_retry, type: data.type, status: data.status, scheduled_at: data.scheduled_at, call_date: data.call_date, audio_url: data.audio_url },
      { summary: 'S', notes: 'N', call_id: 'CALL', duration_ms: 42, phone_number_used: '+33123456789', direction: 'inbound', disconnection_reason: 'hangup', is_retry: true, type: 'sms', status: 'no_answer', scheduled_at: '2024-05-01T08:00:00+00:00', call_date: '2024-05-01T09:00:00+00:00', audio_url: 'https://example.com/r.mp3' },
    );
  });

  test('concurrent updates of one field leave a history whose entries chain', async () => {
    const tenant = await ctx.tenant();
    const created = await api.created(tenant.auth, { debt_id: await tenant.debt(), summary: 'v0' });
    const values = Array.from({ length: 12 }, (_, i) => `v${i + 1}`);
    await Promise.all(values.map((summary) => api.update(tenant.auth, created.id, { summary })));
    const history = body(await api.history(tenant.auth, created.id, 'limit=100')).data.filter((c: any) => c.field === 'summary');
    assert.equal(history.length, 13);
    assert.deepEqual(history[0], { ...history[0], from: null, to: 'v0' });
    for (let i = 1; i < history.length; i++) assert.equal(history[i].from, history[i - 1].to, `entry ${i} continues from entry ${i - 1}`);
    const final = body(await api.get(tenant.auth, created.id)).data.summary;
    assert.equal(history[history.length - 1].to, final);
    assert.deepEqual(new Set(history.slice(1).map((c: any) => c.to)), new Set(values));
  });

  test('a call_id already used on the same debt is a 409', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    await api.created(tenant.auth, { debt_id: debtId, call_id: 'taken' });
    const other = await api.created(tenant.auth, { debt_id: debtId });
    const response = await api.update(tenant.auth, other.id, { call_id: 'taken' });
    assert.equal(response.statusCode, 409);
    assert.equal(body(response).message, 'call_id is already used by another followup of this debt');
  });

  test('security: no token 401, wrong scope 403, other company 403 and unchanged, unknown and cross-type ids 404', async () => {
    const owner = await ctx.tenant();
    const intruder = await ctx.tenant();
    const reader = await ctx.tenant(['followups:read']);
    const debtId = await owner.debt();
    const created = await api.created(owner.auth, { debt_id: debtId, summary: 'mine' });

    const anonymous = await ctx.app.inject({ method: 'PUT', url: `/external-api/v1/followups/${created.id}`, payload: { summary: 'x' } });
    assert.equal(anonymous.statusCode, 401);
    const scoped = await api.update(reader.auth, created.id, { summary: 'x' });
    assert.equal(scoped.statusCode, 403);
    assert.equal(body(scoped).message, 'Required scope "followups:write" not found in token');
    for (const method of ['PUT', 'PATCH'] as const) {
      const denied = await api.update(intruder.auth, created.id, { summary: 'stolen' }, method);
      assert.equal(denied.statusCode, 403);
      assert.equal(body(denied).message, 'Access denied to this followup');
    }
    assert.equal(body(await api.get(owner.auth, created.id)).data.summary, 'mine');
    for (const id of [debtId, ctx.ids.encode('followup', 2 ** 40), 'garbage']) {
      const missing = await api.update(owner.auth, id, { summary: 'x' });
      assert.equal(missing.statusCode, 404, id);
      assert.equal(body(missing).message, 'Followup not found');
    }
  });
});
