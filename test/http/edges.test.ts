import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { TokenSealer } from '../../src/auth/access-token.js';
import { SCOPES } from '../../src/auth/scopes.js';
import { createPool } from '../../src/db/pool.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys } from '../../src/security/keys.js';
import { API, body, setup, type Response } from '../helpers/setup.js';
import { testStore } from '../helpers/storage.js';

const ctx = await setup();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MIB = 1024 * 1024;

/** The error envelope, exactly: `{"error": true, "message", "code"}`, with the request id header. */
function assertEnvelope(response: Response, status: number, message?: string | RegExp): void {
  assert.equal(response.statusCode, status, response.body.slice(0, 500));
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  const json = body(response);
  assert.deepEqual(Object.keys(json), ['error', 'message', 'code']);
  assert.equal(json.error, true);
  assert.equal(json.code, status);
  if (typeof message === 'string') assert.equal(json.message, message);
  else if (message) assert.match(json.message, message);
  assert.ok(response.headers['x-request-id'], 'X-Request-Id is set');
}

async function postFollowup(headers: Record<string, string>, payload: string | Buffer): Promise<Response> {
  return ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers, payload });
}

/** Captures an app's log lines, to check what goes to the log and what stays out of responses. */
function logSink(): { logger: pino.Logger; lines: () => any[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

describe('the error envelope', () => {
  test('an unknown route is 404', async () => {
    for (const [method, url] of [
      ['GET', '/nope'], ['GET', '/external-api/v2/followups'], ['POST', `${API}/nope`], ['GET', '/external-api/v1'],
      ['DELETE', `${API}/nope/x`],
    ] as const) {
      const response = await ctx.app.inject({ method, url });
      assertEnvelope(response, 404, `Route ${method} ${url} not found`);
    }
  });

  test('a known path with another method is a 405 with Allow', async () => {
    for (const [method, url, allow] of [
      ['DELETE', `${API}/followups/x`, 'GET, HEAD, PUT, PATCH'],
      ['OPTIONS', `${API}/followups`, 'GET, HEAD, POST'],
      ['PUT', `${API}/debts`, 'GET, HEAD, POST'],
      ['POST', '/health', 'GET, HEAD'],
      ['DELETE', '/token/revoke', 'POST'],
    ] as const) {
      const response = await ctx.app.inject({ method, url });
      assertEnvelope(response, 405, `Method ${method} is not allowed here; allowed: ${allow}`);
      assert.equal(response.headers.allow, allow);
    }
  });

  test('GET / points to the reference', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(body(response), {
      error: false,
      message: 'Relance API: the interactive reference is at /docs',
      data: { docs: '/docs', openapi: '/openapi.json', api: '/external-api/v1' },
    });
  });

  test('the 404 message does not echo the query string and is bounded in length', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: `/${'x'.repeat(5000)}?token=secret` });
    assertEnvelope(response, 404);
    assert.ok(!body(response).message.includes('secret'));
    assert.ok(body(response).message.length < 300);
  });

  test('a body over 1 MiB is 413; a body of exactly 1 MiB is read', async () => {
    const tenant = await ctx.tenant();
    const headers = { ...tenant.auth, 'content-type': 'application/json' };
    const debtId = await tenant.debt();
    const exact = (size: number) => {
      const start = JSON.stringify({ debt_id: debtId, padding: '' });
      return `${start.slice(0, -2)}${'x'.repeat(size - start.length)}"}`;
    };
    assert.equal(Buffer.byteLength(exact(MIB)), MIB);
    assertEnvelope(await postFollowup(headers, exact(MIB + 1)), 413, 'Request body is too large (limit: 1 MiB)');
    assertEnvelope(await postFollowup(headers, `{"a":"${'x'.repeat(5 * MIB)}"}`), 413);
    const atLimit = await postFollowup(headers, exact(MIB));
    assert.equal(atLimit.statusCode, 201, atLimit.body.slice(0, 300));
  });

  test('a non-JSON content type on POST /external-api/v1/followups is 415', async () => {
    const tenant = await ctx.tenant();
    const payload = JSON.stringify({ debt_id: await tenant.debt() });
    for (const type of ['text/plain', 'text/html', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
      'application/octet-stream', 'application/jsonx', 'json']) {
      assertEnvelope(await postFollowup({ ...tenant.auth, 'content-type': type }, payload), 415, 'Unsupported Content-Type: send application/json');
    }
    assertEnvelope(await postFollowup(tenant.auth, payload), 415);
  });

  test('JSON content types with parameters or another case are accepted', async () => {
    const tenant = await ctx.tenant();
    const payload = JSON.stringify({ debt_id: await tenant.debt() });
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8']) {
      const response = await postFollowup({ ...tenant.auth, 'content-type': type }, payload);
      assert.equal(response.statusCode, 201, `${type}: ${response.body}`);
    }
  });

  test('malformed JSON is 400 Invalid JSON body', async () => {
    const tenant = await ctx.tenant();
    for (const payload of ['{bad', '{"debt_id": "x",}', "{'debt_id': 'x'}", '{"a":1}}', '', ' ', 'nul', '{"a":"\u0001"}', '\u00ff{}']) {
      const response = await postFollowup({ ...tenant.auth, 'content-type': 'application/json' }, payload);
      assertEnvelope(response, 400, 'Invalid JSON body');
    }
  });

  test('a body is strict UTF-8: invalid bytes are a 400, another declared charset a 415, never silently replaced', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const json = { ...tenant.auth, 'content-type': 'application/json' };
    for (const bytes of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const payload = Buffer.concat([Buffer.from(`{"debt_id":"${debtId}","summary":"`), Buffer.from(bytes), Buffer.from('"}')]);
      assertEnvelope(await postFollowup(json, payload), 400, 'Request body must be valid UTF-8');
    }
    const body = JSON.stringify({ debt_id: debtId, summary: 'déjà' });
    for (const type of ['application/json; charset=utf-16', 'application/json; charset=ISO-8859-1', 'application/json; charset="latin1"']) {
      assertEnvelope(await postFollowup({ ...tenant.auth, 'content-type': type }, body), 415, 'Unsupported charset: send JSON in UTF-8');
    }
    for (const type of ['application/json; charset="UTF-8"', 'application/json; foo="x;charset=latin1"', 'application/json; charset=utf-8; v=1', 'application/json;']) {
      const created = await postFollowup({ ...tenant.auth, 'content-type': type }, body);
      assert.equal(created.statusCode, 201, `${type}: ${created.body}`);
      assert.equal(created.json().data.summary, 'déjà');
    }
  });

  test('valid JSON with a prototype-poisoning key is refused, saying which keys', async () => {
    const tenant = await ctx.tenant();
    for (const payload of ['{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {"admin": true}}}', '{"summary": "x", "a": [{"__proto__": 1}]}']) {
      const response = await postFollowup({ ...tenant.auth, 'content-type': 'application/json' }, payload);
      assertEnvelope(response, 400, 'JSON body must not contain a "__proto__" key, nor a "constructor" object with a "prototype" key');
    }
  });

  test('a JSON Content-Type with no body is no body on DELETE and GET, and still an error on POST', async () => {
    const tenant = await ctx.tenant();
    const json = { ...tenant.auth, 'content-type': 'application/json' };
    const deleted = await ctx.app.inject({ method: 'DELETE', url: `${API}/debts/${await tenant.debt()}`, headers: json });
    assert.equal(deleted.statusCode, 200, deleted.body);
    const listed = await ctx.app.inject({ method: 'GET', url: `${API}/followups`, headers: json, payload: '' });
    assert.equal(listed.statusCode, 200, listed.body);
    assertEnvelope(await postFollowup(json, ''), 400, 'Invalid JSON body');
  });

  test('a malformed percent-encoding in the path is 400 in the envelope, with a request id', async () => {
    const tenant = await ctx.tenant();
    for (const url of [`${API}/followups/%zz`, `${API}/followups/%E0%A4%A`, '/nope/%', `${API}/followups/abc%`]) {
      const response = await ctx.app.inject({ method: 'GET', url, headers: tenant.auth });
      assertEnvelope(response, 400, 'Malformed URL: invalid percent-encoding');
      assert.match(String(response.headers['x-request-id']), UUID);
    }
    const echoed = await ctx.app.inject({ method: 'GET', url: `${API}/followups/%zz`, headers: { 'x-request-id': 'bad-url-1' } });
    assert.equal(echoed.headers['x-request-id'], 'bad-url-1');
  });

  test('an over-long path parameter is answered in the envelope, not by a bare framework error', async () => {
    const tenant = await ctx.tenant();
    const response = await ctx.app.inject({ method: 'GET', url: `${API}/followups/${'x'.repeat(500)}`, headers: tenant.auth });
    assertEnvelope(response, 414, 'A path parameter of the URL is too long');
  });

  test('text PostgreSQL cannot store (NUL, unpaired surrogates) is a validation error of its field, not a 500', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const response = await postFollowup(
      { ...tenant.auth, 'content-type': 'application/json' },
      `{"debt_id": "${debtId}", "summary": "a\\u0000b", "notes": "\\ud800", "call_id": "x\\udc00", "phone_number_used": "\\ud83d\\ude00",
        "disconnection_reason": "ok", "unknown_field": "\\u0000"}`,
    );
    assert.equal(response.statusCode, 400, response.body);
    const json = body(response);
    assert.equal(json.message, 'Validation failed');
    assert.deepEqual(Object.keys(json.details).sort(), ['call_id', 'notes', 'summary']);
    assert.equal(json.details.summary, 'summary must be valid Unicode text without NUL characters');

    const paired = await postFollowup({ ...tenant.auth, 'content-type': 'application/json' }, `{"debt_id": "${debtId}", "summary": "\\ud83d\\ude00 é"}`);
    assert.equal(paired.statusCode, 201, paired.body);
    assert.equal(body(paired).data.summary, '😀 é');
  });
});

describe('unexpected failures', () => {
  test('a 500 has a generic message with the request id; the stack goes to the log only', async () => {
    const sink = logSink();
    const pool = createPool(process.env.TEST_DATABASE_URL!, 1);
    const keys = deriveKeys(randomBytes(32));
    const app = await buildApp({ pool, keys, logger: sink.logger, storage: await testStore(keys) });
    app.get('/boom', async () => {
      throw new Error('relation "secret_table" does not exist at /srv/relance/internal.ts:42');
    });
    app.get('/boom-typed', async () => {
      throw Object.assign(new TypeError("Cannot read properties of undefined (reading 'query')"), { code: 'ECONNREFUSED' });
    });
    await app.ready();
    after(async () => {
      await app.close();
      await pool.end();
    });

    for (const url of ['/boom', '/boom-typed']) {
      const generated = await app.inject({ method: 'GET', url });
      const id = String(generated.headers['x-request-id']);
      assert.match(id, UUID);
      assertEnvelope(generated, 500, `Internal server error (request id ${id})`);
      for (const leak of ['secret_table', '/srv', 'internal.ts', 'Error', 'undefined', 'ECONNREFUSED', ' at ']) {
        assert.ok(!generated.body.includes(leak), `${url} leaks ${leak}`);
      }
    }

    const echoed = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'trace-42' } });
    assert.equal(echoed.headers['x-request-id'], 'trace-42');
    assert.equal(body(echoed).message, 'Internal server error (request id trace-42)');

    const logged = sink.lines().find((line) => line.request_id === 'trace-42' && line.level === 50);
    assert.ok(logged, 'the failure is logged at error level with the request id');
    assert.match(logged.err.message, /secret_table/);
    assert.match(logged.err.stack, /edges\.test\.ts/);
  });

  test('a database that stops answering: /health stays up, /ready is 503, API requests are a generic 500', async () => {
    const pool = createPool(process.env.TEST_DATABASE_URL!, 1);
    const keys = deriveKeys(randomBytes(32));
    const app = await buildApp({ pool, keys, logger: pino({ level: 'silent' }), storage: await testStore(keys) });
    await app.ready();
    after(() => app.close());

    const ready = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(body(ready), { status: 'ready' });
    await pool.end();

    const notReady = await app.inject({ method: 'GET', url: '/ready' });
    assert.equal(notReady.statusCode, 503);
    assert.deepEqual(body(notReady), { status: 'database unavailable' });
    assert.ok(notReady.headers['x-request-id']);
    const health = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(body(health), { status: 'ok' });

    const { token } = new TokenSealer(keys.tokens).issue({ clientRowId: 1, clientId: 'rlc_x', companyId: 1, scopes: [...SCOPES] });
    const get = await app.inject({
      method: 'GET',
      url: `${API}/followups/${new IdCodec(keys.ids).encode('followup', 1)}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assertEnvelope(get, 500, `Internal server error (request id ${get.headers['x-request-id']})`);
    assert.doesNotMatch(get.body, /pool|Cannot use/i);

    const tokenResponse = await app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: 'rlc_x', client_secret: 'rls_x' } });
    assert.equal(tokenResponse.statusCode, 500);
    assert.deepEqual(body(tokenResponse), {
      error: 'server_error',
      error_description: `Internal server error (request id ${tokenResponse.headers['x-request-id']})`,
    });
  });
});

describe('X-Request-Id', () => {
  test('generated when absent: a fresh UUID per request', async () => {
    const first = await ctx.app.inject({ method: 'GET', url: '/health' });
    const second = await ctx.app.inject({ method: 'GET', url: '/health' });
    assert.match(String(first.headers['x-request-id']), UUID);
    assert.match(String(second.headers['x-request-id']), UUID);
    assert.notEqual(first.headers['x-request-id'], second.headers['x-request-id']);
  });

  test('echoed when sane', async () => {
    for (const id of ['abc', 'req-123', 'a.b:c_d-e', '01HQ3Z8K2M4N5P6Q7R8S9T0V1W', 'x'.repeat(128), randomBytes(16).toString('hex')]) {
      const response = await ctx.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': id } });
      assert.equal(response.headers['x-request-id'], id);
    }
  });

  test('replaced when too long, with spaces, control characters or other symbols', async () => {
    for (const id of ['x'.repeat(129), 'x'.repeat(10_000), 'a b', ' abc', 'abc ', 'a\tb', 'a\u0001b', 'a\u007fb', 'é', 'a,b', '<script>',
      'a/b', 'a"b', '', 'id\r\nSet-Cookie: x=1']) {
      const response = await ctx.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': id } });
      const given = String(response.headers['x-request-id']);
      assert.match(given, UUID, JSON.stringify(id).slice(0, 40));
    }
  });

  test('present on every kind of response', async () => {
    const tenant = await ctx.tenant();
    const responses = [
      await ctx.app.inject({ method: 'GET', url: '/health' }),
      await ctx.app.inject({ method: 'GET', url: '/nope' }),
      await ctx.app.inject({ method: 'GET', url: `${API}/followups/x` }),
      await ctx.app.inject({ method: 'GET', url: `${API}/followups/x`, headers: tenant.auth }),
      await postFollowup({ ...tenant.auth, 'content-type': 'application/json' }, '{bad'),
      await postFollowup({ ...tenant.auth, 'content-type': 'text/plain' }, 'x'),
      await postFollowup({ ...tenant.auth, 'content-type': 'application/json' }, '{}'),
      await ctx.app.inject({ method: 'POST', url: '/token', payload: {} }),
      await ctx.app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret } }),
      await ctx.app.inject({ method: 'GET', url: '/openapi.json' }),
    ];
    for (const response of responses) assert.match(String(response.headers['x-request-id']), UUID, `${response.statusCode} ${response.body.slice(0, 80)}`);
    const echoed = await ctx.app.inject({ method: 'POST', url: '/token', headers: { 'x-request-id': 'tok-1' }, payload: {} });
    assert.equal(echoed.headers['x-request-id'], 'tok-1');
  });

  test('over a real socket: echoed, generated, and a header sent twice is not trusted', async () => {
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = ctx.app.server.address() as AddressInfo;
    const get = (headers: http.OutgoingHttpHeaders) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const request = http.get({ host: '127.0.0.1', port, path: '/nope', headers }, (response) => {
          response.resume();
          response.on('end', () => resolve(response));
        });
        request.on('error', reject);
      });
    const echoed = await get({ 'x-request-id': 'socket-1' });
    assert.equal(echoed.statusCode, 404);
    assert.equal(echoed.headers['x-request-id'], 'socket-1');
    assert.match(String((await get({})).headers['x-request-id']), UUID);
    assert.match(String((await get({ 'x-request-id': ['one', 'two'] })).headers['x-request-id']), UUID);
  });
});

describe('requests the HTTP parser rejects', () => {
  /** Sends raw bytes to a listening app and returns what came back before the socket closed. */
  async function raw(request: string): Promise<string> {
    const app = await buildApp({ pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage: ctx.storage });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as AddressInfo;
      return await new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const socket = net.createConnection({ host: '127.0.0.1', port }, () => socket.write(request));
        socket.on('data', (chunk) => chunks.push(chunk));
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.on('error', reject);
      });
    } finally {
      await app.close();
    }
  }

  const envelope = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

  test('a malformed header gets a 400 envelope with a request id', async () => {
    const response = await raw('GET /health HTTP/1.1\r\nHost: x\r\nBad Header\x01: y\r\n\r\n');
    assert.match(response, /^HTTP\/1\.1 400 /);
    assert.match(response, /\r\nX-Request-Id: [0-9a-f-]{36}\r\n/i);
    assert.deepEqual(envelope(response), { error: true, message: 'Malformed HTTP request', code: 400 });
  });

  test('oversized headers get a 431 envelope', async () => {
    const response = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(response, /^HTTP\/1\.1 431 /);
    assert.deepEqual(envelope(response), { error: true, message: 'Request headers are too large', code: 431 });
  });
});

describe('operations endpoints', () => {
  test('GET /health and GET /ready answer 200', async () => {
    const health = await ctx.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(body(health), { status: 'ok' });
    const ready = await ctx.app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(body(ready), { status: 'ready' });
  });

  test('GET /openapi.json is an OpenAPI 3.1 document of the API', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const doc = body(response);
    assert.match(doc.openapi, /^3\.1\./);
    assert.equal(typeof doc.info.title, 'string');
    assert.ok(doc.paths['/token']?.post, 'POST /token');
    assert.ok(doc.paths[`${API}/followups`]?.post, 'POST /followups');
    assert.ok(doc.paths[`${API}/followups/{id}`]?.get, 'GET /followups/{id}');
    assert.ok(doc.paths['/health']?.get && doc.paths['/ready']?.get);
    assert.ok(!doc.paths['/openapi.json'], 'the document does not describe itself');

    // Shapes are named components, referred to with $ref.
    const named = (schema: any) => (schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema);
    const create = doc.paths[`${API}/followups`].post;
    const schema = named(create.requestBody.content['application/json'].schema);
    assert.ok(schema.properties.debt_id, 'the create body documents debt_id');
    assert.ok(schema.required.includes('debt_id'));
    for (const field of ['type', 'status', 'scheduled_at', 'summary', 'notes', 'is_retry']) assert.ok(schema.properties[field], field);
    assert.ok(create.responses['201'], 'the 201 response is documented');
    assert.deepEqual(create.security, [{ oauth2: ['followups:write'] }, { bearer: ['followups:write'] }]);
    assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');

    const token = doc.paths['/token'].post;
    assert.ok(token.requestBody.content['application/x-www-form-urlencoded'], 'the token endpoint takes forms');
    assert.ok(named(token.responses['200'].content['application/json'].schema).properties.access_token);
  });

  test('GET /docs serves the interactive reference, which loads the same document', async () => {
    let response = await ctx.app.inject({ method: 'GET', url: '/docs' });
    for (let hops = 0; response.statusCode >= 300 && response.statusCode < 400 && hops < 5; hops++) {
      response = await ctx.app.inject({ method: 'GET', url: new URL(String(response.headers.location), 'http://localhost/docs').pathname });
    }
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(response.body, /<html/i);
    assert.match(response.body, /swagger/i);

    const json = await ctx.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(json.statusCode, 200);
    assert.deepEqual(Object.keys(body(json).paths).sort(), Object.keys(body(await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).paths).sort());
  });
});
