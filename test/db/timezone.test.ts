/**
 * A server or database whose default time zone is not UTC changes nothing the API returns:
 * every connection runs in UTC. (With Europe/Paris, a call_date of 1900 came back from to_jsonb
 * with a +00:09:21 offset, and the followup's history answered 500 for ever.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { createClient } from '../../src/auth/client-service.js';
import { insertCompany } from '../../src/companies/repository.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { createDebt } from '../../src/debts/service.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys } from '../../src/security/keys.js';
import { freshDatabase } from '../helpers/database.js';
import { API, body } from '../helpers/setup.js';
import { testStore } from '../helpers/storage.js';

test('on a database whose default time zone is Europe/Paris, timestamps and history stay exact', { timeout: 120_000 }, async () => {
  const url = new URL(await freshDatabase((admin, name) => admin.query(`ALTER DATABASE ${name} SET timezone = 'Europe/Paris'`).then(() => {})));
  const pool = createPool(url.toString(), 2);
  after(() => pool.end());

  const plain = new pg.Client({ connectionString: url.toString() });
  await plain.connect();
  assert.equal((await plain.query('SHOW TimeZone')).rows[0].TimeZone, 'Europe/Paris', 'the database default is not UTC');
  await plain.end();
  assert.equal((await pool.query('SHOW TimeZone')).rows[0].TimeZone, 'UTC', "Relance's connections run in UTC");

  await migrate(pool);
  const keys = deriveKeys(randomBytes(32));
  const app = await buildApp({ pool, keys, logger: pino({ level: 'silent' }), storage: await testStore(keys) });
  after(() => app.close());
  const company = await insertCompany('Paris', pool);
  const client = await createClient(company.id, { scopes: ['followups:read', 'followups:write'] }, keys.secrets, pool);
  const debt = await createDebt(company.id, { body: { firstname: 'J', lastname: 'D', email: 'j@example.com', amount: 10, currency: 'EUR' }, problems: {} }, pool);
  const token = body(await app.inject({
    method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret },
  })).access_token;
  const auth = { authorization: `Bearer ${token}` };

  const created = await app.inject({
    method: 'POST', url: `${API}/followups`, headers: auth,
    payload: { debt_id: new IdCodec(keys.ids).encode('debt', debt.id), call_date: '1900-01-01T00:00:00Z', scheduled_at: '2024-07-01T12:00:00+02:00' },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = body(created).data.id;
  await app.inject({ method: 'PATCH', url: `${API}/followups/${id}`, headers: auth, payload: { call_date: '1850-06-15T12:00:00Z' } });

  const history = await app.inject({ method: 'GET', url: `${API}/followups/${id}/history`, headers: auth });
  assert.equal(history.statusCode, 200, history.body);
  const values = body(history).data.filter((c: { field: string }) => c.field !== 'type' && c.field !== 'status' && c.field !== 'is_retry')
    .map((c: { field: string; from: unknown; to: unknown }) => [c.field, c.from, c.to]);
  assert.deepEqual(values, [
    ['call_date', null, '1900-01-01T00:00:00+00:00'],
    ['scheduled_at', null, '2024-07-01T10:00:00+00:00'],
    ['call_date', '1900-01-01T00:00:00+00:00', '1850-06-15T12:00:00+00:00'],
  ]);
  const got = body(await app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: auth })).data;
  assert.equal(got.call_date, '1850-06-15T12:00:00+00:00');
  assert.equal(got.scheduled_at, '2024-07-01T10:00:00+00:00');
  const page = await app.inject({ method: 'GET', url: `${API}/followups?cursor=&limit=1`, headers: auth });
  assert.equal(page.statusCode, 200, page.body);
});
