import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { API, body, setup } from '../helpers/setup.js';

const ctx = await setup();

const CREATE_KEYS = [
  'id', 'debt_id', 'status', 'type', 'call_date', 'scheduled_at', 'summary', 'notes', 'call_id', 'audio_url',
  'pdf_url', 'duration_ms', 'disconnection_reason', 'direction', 'phone_number_used', 'is_retry', 'processed_at',
];
const GET_KEYS = [
  ...CREATE_KEYS, 'triggered_payment', 'email_opened', 'email_open_count', 'email_first_opened_at', 'email_clicked',
  'email_click_count',
];
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/;
const ID = /^[A-Za-z0-9_-]{22}$/;

async function create(auth: { authorization: string }, payload: unknown) {
  return ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
}

describe('create followup: the contract example', () => {
  test('the seed request, sent as written, gets the seed response shape', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const before = Math.floor(Date.now() / 1000);
    const response = await create(tenant.auth, {
      debt_id: debtId,
      type: 'call',
      status: 'scheduled',
      scheduled_at: '2024-01-25T10:00:00Z',
      summary: 'Follow-up call to discuss payment plan',
      notes: 'Customer previously expressed interest in monthly payment schedule',
    });
    assert.equal(response.statusCode, 201);
    assert.match(String(response.headers['content-type']), /^application\/json; charset=utf-8$/);
    const json = body(response);
    assert.deepEqual(Object.keys(json), ['error', 'message', 'data']);
    assert.equal(json.error, false);
    assert.equal(json.message, 'Followup created successfully');
    assert.deepEqual(Object.keys(json.data), CREATE_KEYS);
    assert.match(json.data.id, ID);
    assert.equal(json.data.debt_id, debtId);
    assert.deepEqual(
      { ...json.data, id: undefined, processed_at: undefined },
      {
        id: undefined,
        debt_id: debtId,
        status: 'scheduled',
        type: 'call',
        call_date: null,
        scheduled_at: '2024-01-25T10:00:00+00:00',
        summary: 'Follow-up call to discuss payment plan',
        notes: 'Customer previously expressed interest in monthly payment schedule',
        call_id: null,
        audio_url: null,
        pdf_url: null,
        duration_ms: null,
        disconnection_reason: null,
        direction: null,
        phone_number_used: null,
        is_retry: false,
        processed_at: undefined,
      },
    );
    assert.match(json.data.processed_at, TIMESTAMP);
    const processed = Date.parse(json.data.processed_at) / 1000;
    assert.ok(processed >= before - 1 && processed <= Date.now() / 1000 + 1, 'processed_at is the creation time');
  });

  test('the seed error example is reproduced exactly', async () => {
    const tenant = await ctx.tenant();
    const response = await create(tenant.auth, { type: 'meeting' });
    assert.equal(response.statusCode, 400);
    assert.equal(
      response.body,
      JSON.stringify({
        error: true,
        message: 'Validation failed',
        code: 400,
        details: {
          debt_id: 'Debt ID is required',
          type: 'Invalid followup type. Valid types are: call, sms, email, whatsapp, voicemail, manual_call, physical, postmail',
        },
      }),
    );
  });

  test('defaults: status on_hold, type call, is_retry false', async () => {
    const tenant = await ctx.tenant();
    const json = body(await create(tenant.auth, { debt_id: await tenant.debt() }));
    assert.equal(json.data.status, 'on_hold');
    assert.equal(json.data.type, 'call');
    assert.equal(json.data.is_retry, false);
    assert.equal(json.data.scheduled_at, null);
  });

  test('every field is stored and returned', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const fields = {
      debt_id: debtId,
      type: 'whatsapp',
      status: 'deal_found',
      call_date: '2024-01-22T10:30:00Z',
      scheduled_at: '2024-01-22T10:00:00Z',
      summary: 'Successfully contacted debtor',
      notes: 'Agreed to pay €500 monthly',
      call_id: 'call_789456',
      audio_url: 'https://recordings.example.com/call_789456.mp3',
      duration_ms: 180000,
      phone_number_used: '+33800123456',
      direction: 'outbound',
      disconnection_reason: 'completed_successfully',
      is_retry: true,
    };
    const created = body(await create(tenant.auth, fields));
    const got = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${created.data.id}`, headers: tenant.auth });
    assert.equal(got.statusCode, 200);
    const data = body(got).data;
    for (const [key, value] of Object.entries(fields)) {
      const expected = key === 'call_date' || key === 'scheduled_at' ? String(value).replace('Z', '+00:00') : value;
      assert.deepEqual(data[key], expected, key);
    }
  });

  test('all eleven writable statuses and eight types are accepted', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const statuses = ['on_hold', 'scheduled', 'in_progress', 'sent', 'delivered', 'deal_found', 'no_answer', 'deal_not_found', 'bad_behavior', 'failed', 'cancelled'];
    const types = ['call', 'sms', 'email', 'whatsapp', 'voicemail', 'manual_call', 'physical', 'postmail'];
    for (const [i, status] of statuses.entries()) {
      const response = await create(tenant.auth, { debt_id: debtId, status, type: types[i % types.length] });
      assert.equal(response.statusCode, 201, status);
      assert.equal(body(response).data.status, status);
      assert.equal(body(response).data.type, types[i % types.length]);
    }
  });
});

describe('create followup: timestamps', () => {
  // Each spelling of 10:00 UTC on 25 January 2024, then two that land on another day.
  const TEN_UTC = '2024-01-25T10:00:00+00:00';
  const spellings = ['2024-01-25T10:00:00Z', '2024-01-25T12:00:00+02:00', '2024-01-25T05:30:00-04:30', '2024-01-25T11:00:00+0100', '2024-01-25T10:00:00.987Z', '2024-01-25T10:00:00'];
  const cases: [string, string][] = [
    ...spellings.map((input): [string, string] => [input, TEN_UTC]),
    ['2024-01-25', '2024-01-25T00:00:00+00:00'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00+00:00'],
  ];
  for (const [input, output] of cases) {
    test(`${input} is stored as ${output}`, async () => {
      const tenant = await ctx.tenant();
      const response = await create(tenant.auth, { debt_id: await tenant.debt(), scheduled_at: input, call_date: input });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(body(response).data.scheduled_at, output);
      assert.equal(body(response).data.call_date, output);
    });
  }

  for (const bad of ['tomorrow', '2024-13-01', '2024-02-30T10:00:00Z', '2024-01-25T25:00:00Z', '25/01/2024', '2024-01-25T10:00:00+25:00', '', '1706176800']) {
    test(`"${bad}" is refused for call_date and scheduled_at`, async () => {
      const tenant = await ctx.tenant();
      const response = await create(tenant.auth, { debt_id: await tenant.debt(), scheduled_at: bad, call_date: bad });
      assert.equal(response.statusCode, 400);
      assert.deepEqual(body(response).details, {
        call_date: 'Invalid call_date format. Use ISO 8601',
        scheduled_at: 'Invalid scheduled_at format. Use ISO 8601',
      });
    });
  }
});

describe('create followup: validation', () => {
  test('every failing field is reported at once, one string each', async () => {
    const tenant = await ctx.tenant();
    const response = await create(tenant.auth, {
      debt_id: await tenant.debt(),
      type: 'fax',
      status: 'read',
      call_date: 'yesterday',
      scheduled_at: 12,
      summary: 42,
      notes: 'x'.repeat(10_001),
      call_id: ['a'],
      audio_url: 'ftp://example.com/a.mp3',
      duration_ms: -1,
      phone_number_used: true,
      direction: 'sideways',
      disconnection_reason: {},
      is_retry: 'yes',
    });
    assert.equal(response.statusCode, 400);
    const json = body(response);
    assert.equal(json.message, 'Validation failed');
    assert.equal(json.code, 400);
    assert.deepEqual(Object.keys(json.details).sort(), [
      'audio_url', 'call_date', 'call_id', 'direction', 'disconnection_reason', 'duration_ms', 'is_retry', 'notes',
      'phone_number_used', 'scheduled_at', 'status', 'summary', 'type',
    ]);
    for (const [field, message] of Object.entries(json.details)) {
      assert.equal(typeof message, 'string');
      assert.ok((message as string).includes(field) || field === 'type' || field === 'status', `${field}: ${message}`);
    }
    assert.equal(
      json.details.status,
      'Invalid followup status. Valid statuses are: on_hold, scheduled, in_progress, sent, delivered, deal_found, no_answer, deal_not_found, bad_behavior, failed, cancelled',
    );
  });

  test('wrong JSON types are not coerced', async () => {
    const tenant = await ctx.tenant();
    const response = await create(tenant.auth, { debt_id: await tenant.debt(), duration_ms: '1000', is_retry: 'true', summary: 5 });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(Object.keys(body(response).details).sort(), ['duration_ms', 'is_retry', 'summary']);
  });

  test('duration_ms must be an integer', async () => {
    const tenant = await ctx.tenant();
    const response = await create(tenant.auth, { debt_id: await tenant.debt(), duration_ms: 1.5 });
    assert.equal(response.statusCode, 400);
    assert.match(body(response).details.duration_ms, /duration_ms/);
  });

  test('null is accepted for nullable fields on create', async () => {
    const tenant = await ctx.tenant();
    const response = await create(tenant.auth, { debt_id: await tenant.debt(), summary: null, direction: null, call_date: null, duration_ms: null });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(body(response).data.summary, null);
  });

  test('a debt of another company, an unknown debt or a malformed id is refused on debt_id', async () => {
    const mine = await ctx.tenant();
    const theirs = await ctx.tenant();
    const followupId = body(await create(mine.auth, { debt_id: await mine.debt() })).data.id;
    for (const debtId of [await theirs.debt(), ctx.ids.encode('debt', 2 ** 40), 'not-an-id', followupId, 'A'.repeat(22)]) {
      const response = await create(mine.auth, { debt_id: debtId });
      assert.equal(response.statusCode, 400, debtId);
      assert.deepEqual(Object.keys(body(response).details), ['debt_id']);
    }
  });

  test('unknown fields are ignored', async () => {
    const tenant = await ctx.tenant();
    const response = await create(tenant.auth, { debt_id: await tenant.debt(), colour: 'blue', triggered_payment: true });
    assert.equal(response.statusCode, 201);
    assert.equal(body(response).data.colour, undefined);
  });

  test('a body that is not an object is a validation error', async () => {
    const tenant = await ctx.tenant();
    for (const payload of [[1, 2], 'text', 42, null]) {
      const response = await create(tenant.auth, payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(body(response).error, true);
    }
  });
});

describe('get followup', () => {
  test('returns the full object with every field in the contract order', async () => {
    const tenant = await ctx.tenant();
    const created = body(await create(tenant.auth, { debt_id: await tenant.debt(), type: 'email', status: 'sent' }));
    const response = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${created.data.id}`, headers: tenant.auth });
    assert.equal(response.statusCode, 200);
    const json = body(response);
    assert.equal(json.error, false);
    assert.equal(json.message, 'Success');
    assert.deepEqual(Object.keys(json.data), GET_KEYS);
    assert.equal(json.data.triggered_payment, false);
    assert.equal(json.data.email_opened, false);
    assert.equal(json.data.email_open_count, 0);
    assert.equal(json.data.email_first_opened_at, null);
    assert.equal(json.data.email_clicked, false);
    assert.equal(json.data.email_click_count, 0);
    for (const key of CREATE_KEYS) assert.deepEqual(json.data[key], created.data[key], key);
  });

  test("another company's followup is 403 Access denied to this followup", async () => {
    const owner = await ctx.tenant();
    const other = await ctx.tenant();
    const created = body(await create(owner.auth, { debt_id: await owner.debt(), summary: 'secret' }));
    const response = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${created.data.id}`, headers: other.auth });
    assert.equal(response.statusCode, 403);
    assert.equal(response.body, JSON.stringify({ error: true, message: 'Access denied to this followup', code: 403 }));
  });

  test('unknown, tampered and cross-type ids are 404 Followup not found', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const created = body(await create(tenant.auth, { debt_id: debtId })).data.id as string;
    const flipped = created.slice(0, 5) + (created[5] === 'A' ? 'B' : 'A') + created.slice(6);
    const nonCanonical = created.slice(0, 21) + (created[21] === 'A' ? 'B' : 'A');
    const candidates = [ctx.ids.encode('followup', 2 ** 40), flipped, nonCanonical, debtId, 'abc123def456', 'x'.repeat(150), '%00', '...'];
    for (const id of candidates) {
      const response = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${encodeURIComponent(id)}`, headers: tenant.auth });
      assert.equal(response.statusCode, 404, id);
      assert.equal(response.body, JSON.stringify({ error: true, message: 'Followup not found', code: 404 }));
    }
  });

  test('media_urls_expire_at is absent while no pre-signed URL is served', async () => {
    const tenant = await ctx.tenant();
    const created = body(await create(tenant.auth, { debt_id: await tenant.debt(), audio_url: 'https://example.com/a.mp3' }));
    const data = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${created.data.id}`, headers: tenant.auth })).data;
    assert.equal(data.audio_url, 'https://example.com/a.mp3');
    assert.equal('media_urls_expire_at' in data, false);
  });
});

describe('followups: authentication and scopes', () => {
  test('no token, a malformed token or a forged token is 401 with WWW-Authenticate', async () => {
    const tenant = await ctx.tenant();
    const forged = tenant.token.slice(0, -4) + (tenant.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const authorization of [undefined, 'Bearer', 'Basic abc', `Bearer ${forged}`, `Token ${tenant.token}`, 'Bearer rl_at_x.y']) {
      for (const [method, url] of [['POST', `${API}/followups`], ['GET', `${API}/followups/${ctx.ids.encode('followup', 1)}`]] as const) {
        const response = await ctx.app.inject({ method, url, headers: authorization ? { authorization } : {}, payload: method === 'POST' ? {} : undefined });
        assert.equal(response.statusCode, 401, `${method} ${authorization}`);
        assert.match(String(response.headers['www-authenticate']), /^Bearer/);
        assert.equal(response.body, JSON.stringify({ error: true, message: 'Authentication credentials are missing or invalid', code: 401 }));
      }
    }
  });

  test('a token without followups:write cannot create; without followups:read cannot get', async () => {
    const reader = await ctx.tenant(['followups:read']);
    const writer = await ctx.tenant(['followups:write']);
    const denied = await create(reader.auth, { debt_id: await reader.debt() });
    assert.equal(denied.statusCode, 403);
    assert.equal(body(denied).message, 'Required scope "followups:write" not found in token');
    const created = body(await create(writer.auth, { debt_id: await writer.debt() }));
    const read = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${created.data.id}`, headers: writer.auth });
    assert.equal(read.statusCode, 403);
    assert.equal(body(read).message, 'Required scope "followups:read" not found in token');
  });

  test('authentication is checked before the body is validated', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: { 'content-type': 'application/json' }, payload: '{broken' });
    assert.equal(response.statusCode, 401);
  });
});
