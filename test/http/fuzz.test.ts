/**
 * Property-based fuzzing of the HTTP surface of issue 2 (SPEC §13): no body, header, path or query
 * may produce a 500 or a crash, and every answer is the JSON success or error envelope (or, on
 * POST /token, an RFC 6749 response).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { API, body, setup, type Response } from '../helpers/setup.js';
import { assertWellFormed } from '../helpers/well-formed.js';

const ctx = await setup();
const tenant = await ctx.tenant();
const debtId = await tenant.debt();
const followupId: string = body(
  await ctx.app.inject({
    method: 'POST',
    url: `${API}/followups`,
    headers: { ...tenant.auth, 'content-type': 'application/json' },
    payload: JSON.stringify({ debt_id: debtId }),
  }),
).data.id;

const RUNS = { numRuns: 250 };
const ID = /^[A-Za-z0-9_-]{22}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const FIELDS = [
  'debt_id', 'type', 'status', 'call_date', 'scheduled_at', 'summary', 'notes', 'call_id', 'audio_url', 'duration_ms',
  'phone_number_used', 'direction', 'disconnection_reason', 'is_retry',
] as const;

/** Text of any kind: ASCII, any UTF-16 unit (lone surrogates, NUL, controls), or long. */
const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'null', 'true', '0', '-1', '1e309', '__proto__', 'constructor', '\ud800', 'é', '😀'),
  fc.nat({ max: 12_000 }).map((n) => 'x'.repeat(n)),
);

/** Any JSON value, with the odd ones made likely. */
const anyJson = fc.oneof(
  fc.jsonValue(),
  anyText,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 31, 2 ** 53, -0, 1e308, [], {}),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Text that is valid but awkward to store: any grapheme, quotes, escapes, emoji, empty. */
const awkwardText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constantFrom('😀', 'é', 'e\u0301', '\u200b', '', ' ', "'; DROP TABLE followups; --", '%s%n', '\\', '\n\t', '\u0001') },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** A body every field of which is valid, so that it reaches the database. */
const validFollowup = fc.record(
  {
    debt_id: fc.constant(debtId),
    type: fc.constantFrom('call', 'sms', 'email', 'whatsapp', 'voicemail', 'manual_call', 'physical', 'postmail'),
    status: fc.constantFrom('on_hold', 'scheduled', 'in_progress', 'sent', 'delivered', 'deal_found', 'no_answer', 'cancelled'),
    call_date: fc.oneof(
      fc.date({ noInvalidDate: true, min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') }).map((d) => d.toISOString()),
      fc.constantFrom('2024-02-29', '2024-01-25T10:00:00+02:00', '9999-12-31T23:59:59Z', '2024-01-25T10:00', null),
    ),
    scheduled_at: fc.oneof(fc.date({ noInvalidDate: true, min: new Date('1900-01-01'), max: new Date('2200-01-01') }).map((d) => d.toISOString()), fc.constant(null)),
    summary: awkwardText,
    notes: awkwardText,
    call_id: awkwardText,
    audio_url: fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.constant(null)),
    duration_ms: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constant(null)),
    phone_number_used: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 10 }), fc.constant(null)),
    direction: fc.constantFrom('inbound', 'outbound', null),
    disconnection_reason: awkwardText,
    is_retry: fc.boolean(),
  },
  { requiredKeys: ['debt_id'] },
);

/** What may break a field: any JSON, text PostgreSQL cannot store, dates that do not exist, other ids. */
const breakage = fc.oneof(
  anyJson,
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udc00', '\udc00\ud800', 'http://x/\u0000', 'https://x/\ud800', 'javascript:alert(1)'),
  fc.constantFrom('2024-02-30', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-23:59', '2024-01-25T10:00:00\u0000', 'read', 'CALL', 'sideways'),
  fc.constantFrom(followupId, debtId.toLowerCase(), `${debtId}=`, 'A'.repeat(22)),
);

/** A valid body, half of the time with one or two fields broken. */
const followupBody = fc
  .tuple(validFollowup, fc.array(fc.tuple(fc.constantFrom(...FIELDS), breakage), { minLength: 1, maxLength: 2 }), fc.boolean())
  .map(([fields, broken, intact]) => ({ fields: (intact ? fields : { ...fields, ...Object.fromEntries(broken) }) as Record<string, unknown>, intact }));

const FORBIDDEN_KEY = 'JSON body must not contain a "__proto__" key, nor a "constructor" object with a "prototype" key';

/** JSON that may be refused as prototype poisoning (FORBIDDEN_KEY), wherever the key sits. */
function mayBePoisoned(json: string): boolean {
  return /"(__proto__|constructor)":/.test(json);
}

/** Percent-encodes UTF-8 bytes (an unpaired surrogate becomes U+FFFD, as on the wire). */
function pathSegment(text: string): string {
  return [...Buffer.from(text)].map((byte) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`)).join('');
}

async function createFollowup(payload: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return ctx.app.inject({
    method: 'POST',
    url: `${API}/followups`,
    headers: { ...tenant.auth, 'content-type': 'application/json', ...headers },
    payload,
  });
}

/** Header values as they can arrive: Latin-1 text with controls, tabs and spaces included. */
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 300 }),
  fc.string({ unit: fc.integer({ min: 0x00, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
  fc.nat({ max: 10_000 }).map((n) => 'a'.repeat(n)),
);

describe('fuzz: POST /external-api/v1/followups bodies', () => {
  test('any JSON value as the body', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (value) => {
        const response = await createFollowup(JSON.stringify(value));
        assertWellFormed(response, `POST ${API}/followups ${JSON.stringify(value)?.slice(0, 200)}`);
        assert.ok([201, 400].includes(response.statusCode), `${response.statusCode}`);
      }),
      RUNS,
    );
  });

  test('followup fields, valid or broken: a valid body is stored as sent, a broken one is a 400 naming known fields', async () => {
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(followupBody, async ({ fields, intact }) => {
        const payload = JSON.stringify(fields);
        const sent = JSON.parse(payload);
        const response = await createFollowup(payload);
        assertWellFormed(response, `POST ${API}/followups ${payload.slice(0, 300)}`);
        const json = body(response);
        if (intact) assert.ok([200, 201].includes(response.statusCode), `a valid body is refused: ${payload} -> ${response.body}`);
        if (response.statusCode === 201) {
          stored++;
          assert.equal(json.message, 'Followup created successfully');
          assert.match(json.data.id, ID);
          assert.equal(json.data.debt_id, debtId);
          for (const field of ['summary', 'notes', 'call_id', 'phone_number_used', 'disconnection_reason', 'direction', 'duration_ms'] as const) {
            // An empty call_id names no call and is stored as null.
            if (field in fields) assert.deepEqual(json.data[field], field === 'call_id' && sent[field] === '' ? null : sent[field], field);
          }
          const read = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${json.data.id}`, headers: tenant.auth });
          assertWellFormed(read, `GET ${API}/followups/${json.data.id}`);
          assert.equal(read.statusCode, 200);
          assert.equal(body(read).data.id, json.data.id);
        } else if (json.message === FORBIDDEN_KEY) {
          assert.ok(mayBePoisoned(payload), payload);
        } else if (response.statusCode === 200) {
          // One followup per call_id and debt: a repeated call_id gets the existing followup back.
          stored++;
          assert.equal(typeof fields.call_id, 'string', response.body);
          assert.equal(json.data.call_id, fields.call_id);
          assert.equal(json.data.debt_id, debtId);
        } else {
          assert.equal(response.statusCode, 400, response.body);
          assert.equal(json.message, 'Validation failed');
          for (const field of Object.keys(json.details)) assert.ok((FIELDS as readonly string[]).includes(field), `details names ${field}`);
        }
      }),
      RUNS,
    );
    // The property is only worth something if many requests got through validation to the database.
    assert.ok(stored >= 50, `only ${stored} requests reached the database`);
  });

  test('followup fields plus arbitrary extra keys: unknown keys never matter', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), anyJson, { maxKeys: 8 }), async (extra) => {
        const known = Object.fromEntries(Object.entries(extra).filter(([key]) => (FIELDS as readonly string[]).includes(key)));
        const payload = JSON.stringify({ ...extra, debt_id: debtId, ...known });
        const response = await createFollowup(payload);
        assertWellFormed(response, `POST ${API}/followups extra ${payload.slice(0, 200)}`);
        if (Object.keys(known).length === 0 && !mayBePoisoned(payload)) assert.equal(response.statusCode, 201, response.body);
      }),
      RUNS,
    );
  });

  test('arbitrary bytes as the body, as JSON or another content type', async () => {
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), contentType, async (bytes, type) => {
        const response = await createFollowup(Buffer.from(bytes), { 'content-type': type });
        assertWellFormed(response, `POST ${API}/followups ${type} ${Buffer.from(bytes).toString('hex').slice(0, 200)}`);
      }),
      RUNS,
    );
  });

  test('JSON text broken at an arbitrary point', async () => {
    await fc.assert(
      fc.asyncProperty(followupBody, fc.nat(), async ({ fields }, cut) => {
        const text = JSON.stringify(fields);
        const broken = text.slice(0, cut % (text.length + 1));
        const response = await createFollowup(broken);
        assertWellFormed(response, `POST ${API}/followups ${broken.slice(0, 200)}`);
      }),
      RUNS,
    );
  });
});

describe('fuzz: paths and queries', () => {
  test('any string as a followup id, percent-encoded', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (id) => {
        const response = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${pathSegment(id)}`, headers: tenant.auth });
        assertWellFormed(response, `GET ${API}/followups/${pathSegment(id).slice(0, 100)}`);
        // '', '.' and '..' leave the id out of the path (dot segments are resolved): another route.
        if (['', '.', '..'].includes(id)) return;
        assert.ok(response.statusCode === 404 || response.statusCode === 414 || (response.statusCode === 200 && id === followupId), `${response.statusCode}`);
      }),
      RUNS,
    );
  });

  test('raw path text: slashes, percent signs, dots, query and fragment characters', async () => {
    const raw = fc.string({ unit: fc.constantFrom(...'aZ09-_.~%/?#&=+:;@!$\'()*,[]'.split(''), '%00', '%zz', '%C3%A9', '%E0%A4', '..', '//') });
    await fc.assert(
      fc.asyncProperty(raw, async (path) => {
        for (const url of [`${API}/followups/${path}`, `/${path}`]) {
          const response = await ctx.app.inject({ method: 'GET', url, headers: tenant.auth });
          assertWellFormed(response, `GET ${url}`);
        }
      }),
      RUNS,
    );
  });

  test('arbitrary query strings on every route of the issue', async () => {
    const query = fc.oneof(
      fc.dictionary(anyText, anyText, { maxKeys: 5 }).map((entries) => new URLSearchParams(entries).toString()),
      fc.string({ unit: fc.constantFrom(...'a=&%?#+;[]'.split(''), '%00', 'debt_id', 'page') }),
    );
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const requests = [
          { method: 'GET' as const, url: `${API}/followups/${followupId}?${q}` },
          { method: 'POST' as const, url: `${API}/followups?${q}`, payload: JSON.stringify({ debt_id: debtId }), headers: { 'content-type': 'application/json' } },
          { method: 'GET' as const, url: `/health?${q}` },
        ];
        for (const { headers, ...request } of requests) {
          const response = await ctx.app.inject({ ...request, headers: { ...tenant.auth, ...headers } });
          assertWellFormed(response, `${request.method} ${request.url}`);
          assert.ok(response.statusCode < 300, `${request.method} ${request.url}: a query string is ignored here`);
        }
        const token = await ctx.app.inject({
          method: 'POST',
          url: `/token?${q}`,
          payload: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret },
        });
        assertWellFormed(token, `POST /token?${q}`);
        assert.equal(token.statusCode, 200);
      }),
      { numRuns: 150 },
    );
  });
});

describe('fuzz: headers', () => {
  test('any Authorization header on the API: 401 unless it is the real token', async () => {
    const authorization = fc.oneof(
      headerValue,
      headerValue.map((v) => `Bearer ${v}`),
      headerValue.map((v) => `Basic ${Buffer.from(v, 'latin1').toString('base64')}`),
      headerValue.map((v) => `Bearer rl_at_${Buffer.from(v, 'latin1').toString('base64url')}.${v}`),
      fc.nat({ max: tenant.token.length - 1 }).map((n) => `Bearer ${tenant.token.slice(0, n)}`),
    );
    await fc.assert(
      fc.asyncProperty(authorization, fc.boolean(), async (value, post) => {
        const response = post
          ? await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: { authorization: value, 'content-type': 'application/json' }, payload: JSON.stringify({ debt_id: debtId }) })
          : await ctx.app.inject({ method: 'GET', url: `${API}/followups/${followupId}`, headers: { authorization: value } });
        assertWellFormed(response, `${post ? 'POST' : 'GET'} ${API}/followups with Authorization ${JSON.stringify(value).slice(0, 200)}`);
        assert.equal(response.statusCode, 401);
        assert.match(String(response.headers['www-authenticate']), /^Bearer/);
      }),
      RUNS,
    );
  });

  test('any Authorization header on POST /token', async () => {
    const authorization = fc.oneof(
      headerValue,
      fc.tuple(headerValue, headerValue).map(([id, secret]) => `Basic ${Buffer.from(`${id}:${secret}`, 'latin1').toString('base64')}`),
      fc.tuple(fc.constantFrom(tenant.clientId, `${tenant.clientId}%00`, '%', '%zz'), headerValue).map(
        ([id, secret]) => `Basic ${Buffer.from(`${id}:${secret}`, 'latin1').toString('base64')}`,
      ),
      headerValue.map((v) => `Basic ${v}`),
    );
    await fc.assert(
      fc.asyncProperty(authorization, fc.boolean(), async (value, withBodyCredentials) => {
        const payload = withBodyCredentials
          ? { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret }
          : { grant_type: 'client_credentials' };
        const response = await ctx.app.inject({ method: 'POST', url: '/token', headers: { authorization: value }, payload });
        assertWellFormed(response, `POST /token with Authorization ${JSON.stringify(value).slice(0, 200)}`);
        if (!withBodyCredentials) assert.notEqual(response.statusCode, 200, 'no token without the real secret');
      }),
      RUNS,
    );
  });

  test('any Content-Type header, with a valid JSON body or a valid form', async () => {
    const contentType = fc.oneof(
      headerValue,
      headerValue.map((v) => `application/json; ${v}`),
      headerValue.map((v) => `application/json;charset=${v}`),
      headerValue.map((v) => `application/${v}`),
      headerValue.map((v) => `application/x-www-form-urlencoded; ${v}`),
    );
    await fc.assert(
      fc.asyncProperty(contentType, async (type) => {
        const create = await createFollowup(JSON.stringify({ debt_id: debtId }), { 'content-type': type });
        assertWellFormed(create, `POST ${API}/followups with Content-Type ${JSON.stringify(type).slice(0, 200)}`);
        assert.ok([201, 400, 415].includes(create.statusCode), `${create.statusCode}`);
        const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret }).toString();
        const token = await ctx.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': type }, payload: form });
        assertWellFormed(token, `POST /token with Content-Type ${JSON.stringify(type).slice(0, 200)}`);
      }),
      RUNS,
    );
  });

  test('any X-Request-Id header: echoed exactly when sane, otherwise replaced by a fresh UUID', async () => {
    const requestId = fc.oneof(headerValue, fc.stringMatching(/^[A-Za-z0-9._:-]{1,140}$/));
    await fc.assert(
      fc.asyncProperty(requestId, fc.constantFrom('/health', '/nope', `${API}/followups/${followupId}`), async (id, url) => {
        const response = await ctx.app.inject({ method: 'GET', url, headers: { ...tenant.auth, 'x-request-id': id } });
        assertWellFormed(response, `GET ${url} with X-Request-Id ${JSON.stringify(id).slice(0, 200)}`);
        const echoed = String(response.headers['x-request-id']);
        if (/^[A-Za-z0-9._:-]{1,128}$/.test(id)) assert.equal(echoed, id);
        else assert.match(echoed, UUID);
      }),
      RUNS,
    );
  });
});

describe('fuzz: POST /token parameters', () => {
  test('any combination of parameters, form-encoded or JSON: an RFC 6749 answer, a token only for the real secret', async () => {
    const value = fc.oneof(
      anyText,
      fc.constantFrom('client_credentials', tenant.clientId, tenant.clientSecret, 'followups:read', 'followups:read followups:write', ''),
    );
    const params = fc.record(
      { grant_type: value, client_id: value, client_secret: value, scope: value, extra: value },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(params, fc.boolean(), async (fields, asJson) => {
        const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, string>;
        const response = asJson
          ? await ctx.app.inject({ method: 'POST', url: '/token', payload: defined })
          : await ctx.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(defined).toString() });
        assertWellFormed(response, `POST /token ${JSON.stringify(defined).slice(0, 300)}`);
        if (response.statusCode === 200) {
          assert.equal(defined.client_id, tenant.clientId);
          assert.equal(defined.client_secret, tenant.clientSecret);
        }
      }),
      RUNS,
    );
  });

  test('arbitrary bytes as the /token body', async () => {
    const contentType = fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 20_000 }), contentType, async (bytes, type) => {
        const response = await ctx.app.inject({ method: 'POST', url: '/token', headers: { 'content-type': type }, payload: Buffer.from(bytes) });
        assertWellFormed(response, `POST /token ${type} ${Buffer.from(bytes).toString('hex').slice(0, 200)}`);
        assert.ok([400, 401].includes(response.statusCode), `${response.statusCode}`);
      }),
      RUNS,
    );
  });
});
