/**
 * Overload and database trouble are 503 with Retry-After in the error envelope (or RFC 6749's
 * temporarily_unavailable on POST /token), never a 500: a full pool, a queue past its limit, a
 * statement cancelled by statement_timeout, a database that cannot be reached.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { TokenSealer } from '../../src/auth/access-token.js';
import { SCOPES } from '../../src/auth/scopes.js';
import { DEFAULT_DATABASE_LIMITS, defaultHttpLimits, type DatabaseLimits } from '../../src/config.js';
import type { PoolClient } from 'pg';
import { createPool, type Pool } from '../../src/db/pool.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys } from '../../src/security/keys.js';
import { within } from '../helpers/processes.js';
import { API, GENEROUS_RATE_LIMITS, body, setup, type Response } from '../helpers/setup.js';
import { testStore } from '../helpers/storage.js';

const ctx = await setup();

function assertUnavailable(response: Response, message: string, retryAfter: number): void {
  assert.equal(response.statusCode, 503, response.body);
  assert.equal(response.headers['retry-after'], String(retryAfter));
  assert.deepEqual(body(response), { error: true, message, code: 503 });
  assert.ok(response.headers['x-request-id']);
}

/** An app of its own on the test database, with its own pool limits. */
async function appWith(poolSize: number, limits: Partial<DatabaseLimits>, url = process.env.TEST_DATABASE_URL!, clientConcurrency = 20) {
  const database = { ...DEFAULT_DATABASE_LIMITS, ...limits };
  const pool = createPool(url, poolSize, database);
  const http = { ...defaultHttpLimits(), clientConcurrency };
  const app = await buildApp({ pool, keys: ctx.keys, logger: pino({ level: 'silent' }), http, databaseQueueLimit: database.queueLimit, storage: ctx.storage, rateLimits: GENEROUS_RATE_LIMITS });
  await app.ready();
  after(async () => {
    await app.close();
    await pool.end();
  });
  return { app, pool };
}

describe('overload', () => {
  test('1,000 concurrent list requests from one token: no 500; past its concurrency limit a 429, past the queue a 503, each with Retry-After; another tenant is always served', { timeout: 120_000 }, async () => {
    const flooder = await ctx.tenant();
    const other = await ctx.tenant();
    const debtId = await flooder.debt();
    await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: flooder.auth, payload: { debt_id: debtId } });
    const { app } = await appWith(4, { queueLimit: 20 }, undefined, 8);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const list = (auth: { authorization: string }) =>
      fetch(`${base}${API}/followups?status=on_hold`, { headers: auth, signal: AbortSignal.timeout(60_000) })
        .then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() as { message?: string } }));
    const count = (answers: { status: number }[]) => {
      const statuses = new Map<number, number>();
      for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      return statuses;
    };

    const flood = Array.from({ length: 1_000 }, () => list(flooder.auth));
    // Sent while the flood is under way, one after the other.
    const others: Awaited<ReturnType<typeof list>>[] = [];
    for (let i = 0; i < 20; i++) others.push(await list(other.auth));
    const flooded = await Promise.all(flood);

    const statuses = count(flooded);
    assert.deepEqual([...statuses.keys()].filter((s) => ![200, 429, 503].includes(s)), [], `statuses: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(200) ?? 0) > 0, 'some requests were served');
    assert.ok((statuses.get(429) ?? 0) > 0, 'the flooding client met its concurrency limit');
    for (const answer of flooded.filter((a) => a.status !== 200)) {
      assert.equal(answer.retryAfter, '1');
      assert.match(String(answer.body.message), /^(Too many concurrent requests from this client \(limit: 8\): retry shortly|The service is busy: retry shortly)$/);
    }
    assert.deepEqual([...count(others)], [[200, 20]], 'the other tenant found room every time');
  });

  test('a request that gets no connection within DATABASE_CONNECT_TIMEOUT_MS is a 503, on POST /token too', async () => {
    const { app, pool } = await appWith(1, { connectTimeoutMs: 300 });
    const tenant = await ctx.tenant();
    // The one connection, held: opening it may itself take more than 300 ms on a loaded machine.
    const held = await holdConnection(pool);
    try {
      const id = new IdCodec(ctx.keys.ids).encode('followup', 1);
      assertUnavailable(await app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth }), 'The service is busy: retry shortly', 1);
      const token = await app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret } });
      assert.equal(token.statusCode, 503, token.body);
      assert.equal(token.headers['retry-after'], '1');
      assert.deepEqual(body(token), { error: 'temporarily_unavailable', error_description: 'The service is busy: retry shortly' });
    } finally {
      held.release();
    }
  });

  test('past DATABASE_QUEUE_LIMIT waiting requests, the next is refused at once instead of queueing', async () => {
    const { app, pool } = await appWith(1, { queueLimit: 2, connectTimeoutMs: 20_000 });
    const tenant = await ctx.tenant();
    const created = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: await tenant.debt() } });
    // One query per request (a list runs two side by side).
    const url = `${API}/followups/${body(created).data.id}`;
    // Once, so that the client's state is cached and each request below needs one connection.
    assert.equal((await app.inject({ method: 'GET', url, headers: tenant.auth })).statusCode, 200);
    const held = await pool.connect();
    const queued = [1, 2].map(() => app.inject({ method: 'GET', url, headers: tenant.auth }));
    try {
      for (let i = 0; pool.waitingCount < 2 && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(pool.waitingCount, 2);
      // Answered while the two before it are still waiting (they wait up to 20 s).
      const shed = await within(app.inject({ method: 'GET', url, headers: tenant.auth }), 10_000, 'the shed request');
      assertUnavailable(shed, 'The service is busy: retry shortly', 1);
      assert.equal(pool.waitingCount, 2, 'the queued requests are still waiting');
      // The probes are not shed: /ready waits its turn and says what the database does.
      queued.push(app.inject({ method: 'GET', url: '/ready' }));
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    } finally {
      held.release();
    }
    for (const response of await Promise.all(queued)) assert.equal(response.statusCode, 200, response.body);
  });

  test('a statement cancelled by DATABASE_STATEMENT_TIMEOUT_MS (here: a lock that is never released) is a 503', async () => {
    // Short enough to wait out, long enough for the statements that must succeed on a busy machine.
    const { app } = await appWith(2, { statementTimeoutMs: 2_000 });
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const id: string = body(await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: debtId } })).data.id;
    const locker = await ctx.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM followups WHERE id = $1 FOR UPDATE', [ctx.ids.decode('followup', id)]);
      const response = await app.inject({ method: 'PATCH', url: `${API}/followups/${id}`, headers: tenant.auth, payload: { summary: 'x' } });
      assertUnavailable(response, 'The request took too long to process: retry shortly', 2);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    const after = await app.inject({ method: 'PATCH', url: `${API}/followups/${id}`, headers: tenant.auth, payload: { summary: 'x' } });
    assert.equal(after.statusCode, 200, 'nothing was left half-done');
  });

  test('a database that cannot be reached: API requests and /token are 503, /ready is 503, /health stays up', async () => {
    // Port 1 on loopback: nothing listens there, so every connection attempt is refused.
    const keys = deriveKeys(randomBytes(32));
    const pool = createPool('postgres://relance:x@127.0.0.1:1/relance', 1);
    const app = await buildApp({ pool, keys, logger: pino({ level: 'silent' }), storage: await testStore(keys), rateLimits: GENEROUS_RATE_LIMITS });
    after(async () => {
      await app.close();
      await pool.end();
    });
    const { token } = new TokenSealer(keys.tokens).issue({ clientRowId: 1, clientId: 'rlc_x', companyId: 1, scopes: [...SCOPES] });
    const get = await app.inject({ method: 'GET', url: `${API}/followups/${new IdCodec(keys.ids).encode('followup', 1)}`, headers: { authorization: `Bearer ${token}` } });
    assertUnavailable(get, 'The database is unavailable: retry shortly', 5);
    assert.doesNotMatch(get.body, /ECONNREFUSED|127\.0\.0\.1/);
    const tokenResponse = await app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: 'rlc_x', client_secret: 'rls_x' } });
    assert.equal(tokenResponse.statusCode, 503);
    assert.equal(body(tokenResponse).error, 'temporarily_unavailable');
    assert.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 503);
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  });
});

/** The pool's connection, taken with as many tries as opening one takes under load (at most 20). */
async function holdConnection(pool: Pool): Promise<PoolClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pool.connect();
    } catch (error) {
      if (attempt >= 20) throw error;
    }
  }
}
