/**
 * The request log, as the production logger (src/logger.ts) writes it from a real app: one line
 * per request with its request id, client id, route pattern, status and duration; and nowhere
 * in the whole log a secret (client secret, access token, webhook signing secret, tracking token,
 * metrics token) or a debtor's personal data (names, phone, email, notes), whether sent in a
 * body, a query string or a header, on a 2xx, a 4xx or a 500.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createClient } from '../../src/auth/client-service.js';
import { SCOPES } from '../../src/auth/scopes.js';
import { insertCompany } from '../../src/companies/repository.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { createLogger } from '../../src/logger.js';
import { deriveKeys } from '../../src/security/keys.js';
import { freshDatabase } from '../helpers/database.js';
import { API } from '../helpers/setup.js';
import { testStore } from '../helpers/storage.js';

const FIRSTNAME = 'Zephyrine';
const LASTNAME = 'Quastelbaum';
// A debt with this name breaks a CHECK constraint of this database: PostgreSQL's error then
// carries the whole failing row, personal data included, as a real constraint violation does.
const REFUSED_LASTNAME = 'Quastelbaum-Refused';
const EMAIL = 'zephyrine.quastelbaum@example.org';
const PHONE = '06 98 76 54 32';
const PHONE_E164 = '+33698765432';
const NOTES = 'Debtor said her neighbour Ottoline Vanderkamp would pay';
const METRICS_TOKEN = randomBytes(32).toString('hex');

/** Every line the logger writes, parsed. */
function capture(): { stream: Writable; text: () => string; lines: () => Record<string, any>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const text = () => chunks.join('');
  return { stream, text, lines: () => text().split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

test('one line per request with its fields, and no secret or personal data anywhere in the log', { timeout: 60_000 }, async () => {
  const url = await freshDatabase();
  const pool = createPool(url, 3);
  after(() => pool.end());
  await migrate(pool);
  await pool.query(`ALTER TABLE debts ADD CONSTRAINT debts_lastname_refused CHECK (lastname <> '${REFUSED_LASTNAME}')`);
  const keys = deriveKeys(randomBytes(32));
  const log = capture();
  const app = await buildApp({ pool, keys, logger: createLogger('info', log.stream), storage: await testStore(keys), metricsToken: METRICS_TOKEN });
  after(() => app.close());

  const company = await insertCompany('Logs', pool);
  const client = await createClient(company.id, { scopes: [...SCOPES] }, keys.secrets, pool);
  const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;

  /** Requests made, by the request id each was answered with, and what its log line must say. */
  const made: { id: string; status: number; route: string; clientId?: string }[] = [];
  const send = async (request: InjectOptions, route: string, status: number, authenticated = false) => {
    const response = await app.inject(request);
    assert.equal(response.statusCode, status, `${request.method} ${request.url}: ${response.body}`);
    made.push({ id: String(response.headers['x-request-id']), status, route, clientId: authenticated ? client.client_id : undefined });
    return response;
  };

  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const issued = await send({
    method: 'POST', url: '/token', headers: form,
    payload: `grant_type=client_credentials&client_id=${client.client_id}&client_secret=${client.client_secret}`,
  }, '/token', 200);
  const token: string = issued.json().access_token;
  const auth = { authorization: `Bearer ${token}` };
  await send({ method: 'POST', url: '/token', headers: { authorization: basic }, payload: { grant_type: 'client_credentials' } }, '/token', 200);
  await send({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: `${client.client_secret}x` } }, '/token', 401);
  await send({ method: 'POST', url: '/token/introspect', headers: { ...form, authorization: basic }, payload: `token=${token}` }, '/token/introspect', 200);

  const debtBody = { civility: 'Ms', firstname: FIRSTNAME, lastname: LASTNAME, email: EMAIL, phone: PHONE, country: 'FR', amount: 120, currency: 'EUR' };
  const debt = await send({ method: 'POST', url: `${API}/debts`, headers: auth, payload: debtBody }, `${API}/debts`, 201, true);
  const debtId: string = debt.json().data.id;
  await send({ method: 'POST', url: `${API}/debts`, headers: auth, payload: { ...debtBody, lastname: REFUSED_LASTNAME } }, `${API}/debts`, 500, true);
  await send({ method: 'POST', url: `${API}/debts`, headers: auth, payload: { ...debtBody, email: `${FIRSTNAME}@`, amount: -1 } }, `${API}/debts`, 400, true);
  await send({ method: 'POST', url: `${API}/debts`, headers: { ...auth, 'content-type': 'application/json' }, payload: `{"firstname": "${FIRSTNAME}", ` }, `${API}/debts`, 400, true);
  await send({ method: 'GET', url: `${API}/debts?status=${encodeURIComponent(EMAIL)}&lastname=${LASTNAME}&phone=${encodeURIComponent(PHONE_E164)}`, headers: auth }, `${API}/debts`, 400, true);
  await send({ method: 'GET', url: `${API}/debts/${debtId}?email=${encodeURIComponent(EMAIL)}`, headers: auth }, `${API}/debts/:id`, 200, true);

  const subscribed = await send({ method: 'POST', url: `${API}/webhooks`, headers: auth, payload: { url: 'https://receiver.example.com/hook', events: ['debt.created'] } }, `${API}/webhooks`, 201, true);
  const signingSecret: string = subscribed.json().data.secret;
  assert.match(signingSecret, /^whsec_/);
  const followup = await send({ method: 'POST', url: `${API}/followups`, headers: auth, payload: { debt_id: debtId, type: 'email', status: 'sent', notes: NOTES, phone_number_used: PHONE_E164 } }, `${API}/followups`, 201, true);
  const followupId: string = followup.json().data.id;
  await send({ method: 'PATCH', url: `${API}/followups/${followupId}`, headers: auth, payload: { summary: `Spoke with ${FIRSTNAME} ${LASTNAME}`, notes: NOTES } }, `${API}/followups/:id`, 200, true);
  const pixel = await send({ method: 'GET', url: `${API}/followups/${followupId}/tracking-pixel`, headers: auth }, `${API}/followups/:id/tracking-pixel`, 200, true);
  const pixelPath = new URL(pixel.json().data.url).pathname;
  const trackingToken = pixelPath.slice('/t/o/'.length);
  await send({ method: 'GET', url: pixelPath, headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/120.0' } }, '/t/o/*', 200);
  await send({ method: 'GET', url: `${API}/followups?debt_id=${debtId}&q=${encodeURIComponent(EMAIL)}`, headers: { authorization: `Bearer ${token}x` } }, `${API}/followups`, 401);
  await send({ method: 'GET', url: `/nope/${encodeURIComponent(EMAIL)}?phone=${encodeURIComponent(PHONE)}`, headers: auth }, 'unmatched', 404);
  await send({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } }, '/metrics', 200);
  await send({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}0` } }, '/metrics', 401);
  await send({ method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-log-1' } }, '/health', 200);
  assert.equal(made.at(-1)!.id, 'trace-log-1');

  const lines = log.lines();
  const requestLines = lines.filter((line) => line.msg === 'request');
  assert.equal(requestLines.length, made.length, 'one request line per request');
  for (const request of made) {
    const mine = requestLines.filter((line) => line.request_id === request.id);
    assert.equal(mine.length, 1, `one line for ${request.route} (${request.id})`);
    const line = mine[0]!;
    assert.equal(line.level, 30);
    assert.equal(line.route, request.route);
    assert.equal(line.status, request.status);
    assert.equal(line.client_id, request.clientId, `client id of ${request.route} ${request.status}`);
    assert.equal(typeof line.method, 'string');
    assert.ok(Number.isInteger(line.duration_ms) && line.duration_ms >= 0, 'duration in ms');
    assert.deepEqual(Object.keys(line).sort(), ['client_id', 'duration_ms', 'hostname', 'level', 'method', 'msg', 'pid', 'request_id', 'route', 'status', 'time'].filter((key) => key !== 'client_id' || request.clientId));
  }
  // Every other line (the 500's error) belongs to a request and says what failed, without the row.
  const others = lines.filter((line) => line.msg !== 'request');
  const failure = made.find((request) => request.status === 500)!;
  const logged = others.find((line) => line.request_id === failure.id && line.level === 50);
  assert.ok(logged, `the 500 is logged at error level: ${JSON.stringify(others)}`);
  assert.equal(logged.err.code, '23514');
  assert.equal(logged.err.constraint, 'debts_lastname_refused');
  assert.ok(logged.err.stack, 'with its stack');

  const all = log.text();
  const secrets = {
    'client secret': client.client_secret, 'access token': token, 'webhook signing secret': signingSecret, 'webhook secret (base64)': signingSecret.slice('whsec_'.length), 'Basic credentials': basic.slice('Basic '.length), 'tracking token': trackingToken,
    'metrics token': METRICS_TOKEN, firstname: FIRSTNAME, lastname: LASTNAME, email: EMAIL, 'email (URL-encoded)': encodeURIComponent(EMAIL),
    phone: PHONE, 'phone (E.164)': PHONE_E164, 'phone digits': '698765432', notes: 'Ottoline',
  };
  for (const [what, value] of Object.entries(secrets)) {
    const holding = all.split('\n').filter((line) => line.includes(value));
    assert.deepEqual(holding, [], `the log holds the ${what}`);
  }
});

test('the logger leaves out what PostgreSQL errors quote of the data: detail, context, and the value in a data exception', async () => {
  const pool = createPool(process.env.TEST_DATABASE_URL!, 1);
  after(() => pool.end());
  const refused = await pool.query("SELECT 'Zephyrine-42'::int").then(() => assert.fail('the cast succeeded'), (error: unknown) => error as Error & { code: string });
  assert.equal(refused.code, '22P02');
  assert.match(refused.message, /Zephyrine-42/);
  await pool.query('CREATE TEMP TABLE contacts (email text UNIQUE)');
  await pool.query("INSERT INTO contacts VALUES ('zephyrine@example.org')");
  const duplicate = await pool.query("INSERT INTO contacts VALUES ('zephyrine@example.org')")
    .then(() => assert.fail('the duplicate was inserted'), (error: unknown) => error as Error & { code: string; detail: string });
  assert.equal(duplicate.code, '23505');
  assert.match(duplicate.detail, /zephyrine@example\.org/);

  const log = capture();
  const logger = createLogger('info', log.stream);
  logger.error({ err: refused }, 'cast failed');
  logger.error({ err: new AggregateError([refused, duplicate], 'several failed') }, 'several failed');
  logger.error({ err: duplicate }, 'insert failed');
  const [cast, aggregate, insert] = log.lines();
  assert.equal(cast!.err.code, '22P02');
  assert.match(cast!.err.message, /^data exception 22P02/);
  assert.match(cast!.err.stack, /^error: data exception 22P02/);
  assert.deepEqual(aggregate!.err.aggregateErrors.map((inner: { code: string }) => inner.code), ['22P02', '23505']);
  assert.equal(insert!.err.code, '23505');
  assert.equal(insert!.err.constraint, 'contacts_email_key');
  assert.equal(insert!.err.detail, undefined);
  assert.ok(!/zephyrine/i.test(log.text()), log.text());
});
