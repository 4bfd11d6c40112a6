/**
 * Budgets counted in Redis (REDIS_URL), on the test run's real Redis: apps that share it share
 * each client's budget exactly, under concurrency; a Redis that hangs or goes away leaves the API
 * up (fail-open to each process's own counters, one warning per interval, never a 500 or a stall)
 * and is used again once back; closing the app closes its connection.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, beforeEach, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { setClientRateLimits } from '../../src/auth/clients-repository.js';
import type { RateLimitSettings } from '../../src/config.js';
import { waitFor } from '../helpers/processes.js';
import { API_DEFAULTS, assertApiRateLimited, budget, countdown, roomInWindow, statusCounts } from '../helpers/rate-limits.js';
import { redisClient, RedisProxy, storedCount, testRedisUrl } from '../helpers/redis.js';
import { API, setup, type Tenant } from '../helpers/setup.js';

const REDIS_URL = testRedisUrl();
const ctx = await setup();
const redis = redisClient();
beforeEach(() => roomInWindow(API_DEFAULTS.windowSeconds, 60_000));

/** Where sharing is what is tested, a slow moment of the machine must not make a Redis call time out (and count in memory). */
const PATIENT = { redisTimeoutMs: 10_000 };
/** Where Redis fails on purpose: short enough to wait out, long enough for a working call on a busy machine. */
const FAILING_TIMEOUT_MS = 2_000;

/** Log lines of an app, parsed. */
function logSink() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

async function appOn(settings: Partial<RateLimitSettings>, logger = pino({ level: 'silent' })): Promise<FastifyInstance> {
  const app = await buildApp({ pool: ctx.pool, keys: ctx.keys, logger, storage: ctx.storage, rateLimits: { ...API_DEFAULTS, redisUrl: REDIS_URL, ...settings } });
  after(() => app.close());
  return app;
}

const read = (app: FastifyInstance, tenant: Tenant) => app.inject({ method: 'GET', url: `${API}/followups?limit=1`, headers: tenant.auth });

describe('apps on one Redis', () => {
  test('share each budget exactly: of 10 + 16 concurrent reads spread over two apps, 10 are served', async () => {
    const [one, two] = [await appOn(PATIENT), await appOn(PATIENT)];
    const tenant = await ctx.tenant();
    await setClientRateLimits(tenant.clientId, { read: 10 }, ctx.pool);
    const before = Date.now();
    const responses = await Promise.all(Array.from({ length: 26 }, (_, i) => read(i % 2 ? one : two, tenant)));
    const after = Date.now();
    assert.deepEqual(statusCounts(responses), { 200: 10, 429: 16 });
    assert.deepEqual(responses.filter((r) => r.statusCode === 200).map((r) => budget(r).remaining).sort((a, b) => a - b), countdown(10));
    for (const refused of responses.filter((r) => r.statusCode === 429)) assertApiRateLimited(refused, 10, API_DEFAULTS.windowSeconds, before, after);
    assert.equal(await storedCount(redis, `api:read:${tenant.clientId}`), 10, 'refused requests are not counted');
    assert.equal(new Set(responses.map((r) => budget(r).reset)).size, 1);
  });

  test('writes apart from reads, and a creation refused by the shared budget creates nothing', async () => {
    const [one, two] = [await appOn(PATIENT), await appOn(PATIENT)];
    const tenant = await ctx.tenant();
    await setClientRateLimits(tenant.clientId, { read: 2, write: 4 }, ctx.pool);
    const debtId = await tenant.debt();
    const creates = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      (i % 2 ? one : two).inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: debtId, call_id: `c${i}` } })));
    assert.deepEqual(statusCounts(creates), { 201: 4, 429: 8 });
    const { rows } = await ctx.pool.query('SELECT 1 FROM followups WHERE company_id = $1', [tenant.companyId]);
    assert.equal(rows.length, 4);
    assert.equal((await read(one, tenant)).statusCode, 200);
    assert.equal(budget(await read(two, tenant)).remaining, 0);
    assert.equal((await read(one, tenant)).statusCode, 429);
  });

  test('the token endpoints\' budgets are shared too', async () => {
    const token = { perClient: 3, perAddress: 1_000_000, windowSeconds: API_DEFAULTS.windowSeconds };
    const [one, two] = [await appOn({ ...PATIENT, token }), await appOn({ ...PATIENT, token })];
    const tenant = await ctx.tenant();
    const attempts = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).inject({
      method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret },
    })));
    assert.deepEqual(statusCounts(attempts), { 200: 3, 429: 5 });
  });
});

describe('a Redis that fails', () => {
  test('hung, then gone, then back: every request is answered with its headers, counted in the process meanwhile, warned about once', async () => {
    const proxy = await RedisProxy.start();
    const sink = logSink();
    const app = await appOn({ redisUrl: proxy.url, redisTimeoutMs: FAILING_TIMEOUT_MS }, sink.logger);
    const tenant = await ctx.tenant();
    await setClientRateLimits(tenant.clientId, { read: 1_000 }, ctx.pool);
    const key = `api:read:${tenant.clientId}`;
    assert.equal((await read(app, tenant)).statusCode, 200);
    assert.equal(await storedCount(redis, key), 1, 'counted in Redis');

    await proxy.set('hang');
    const hung = await Promise.all(Array.from({ length: 20 }, () => read(app, tenant)));
    assert.deepEqual(statusCounts(hung), { 200: 20 });
    // Counted in the process's memory meanwhile, from zero: each process holds the client to its budget on its own.
    assert.deepEqual(hung.map((r) => budget(r).remaining).sort((a, b) => b - a), countdown(20).map((i) => 999 - i));

    await proxy.set('down');
    const gone = await Promise.all(Array.from({ length: 20 }, () => read(app, tenant)));
    assert.deepEqual(statusCounts(gone), { 200: 20 });
    assert.ok(gone.every((r) => budget(r).limit === 1_000));
    const warnings = sink.lines.filter((line) => line.level === 40 && line.msg.startsWith('Redis unavailable'));
    assert.equal(warnings.length, 1, JSON.stringify(sink.lines));
    assert.ok(!JSON.stringify(sink.lines).includes(tenant.token), 'no token in the logs');

    await proxy.set('forward');
    await waitFor('the counters to be in Redis again', async () => {
      await read(app, tenant);
      return (await storedCount(redis, key))! > 1 ? true : undefined;
    }, 20_000);
    assert.ok(sink.lines.some((line) => line.msg === 'Redis is back: rate-limit counters are shared again'));
  });

  test('a refused budget holds while Redis hangs, in each process on its own', async () => {
    const proxy = await RedisProxy.start();
    const app = await appOn({ redisUrl: proxy.url, redisTimeoutMs: FAILING_TIMEOUT_MS });
    const tenant = await ctx.tenant();
    await setClientRateLimits(tenant.clientId, { read: 3 }, ctx.pool);
    await proxy.set('hang');
    assert.deepEqual(statusCounts(await Promise.all(Array.from({ length: 8 }, () => read(app, tenant)))), { 200: 3, 429: 5 });
  });

  test('unreachable from the start: the app starts, serves, and counts in its own memory', async () => {
    const proxy = await RedisProxy.start();
    await proxy.set('down');
    const app = await appOn({ redisUrl: proxy.url, redisTimeoutMs: FAILING_TIMEOUT_MS });
    const tenant = await ctx.tenant();
    await setClientRateLimits(tenant.clientId, { read: 2 }, ctx.pool);
    assert.deepEqual(statusCounts(await Promise.all(Array.from({ length: 5 }, () => read(app, tenant)))), { 200: 2, 429: 3 });
  });

  test('closing the app closes its Redis connection', async () => {
    const proxy = await RedisProxy.start();
    const app = await buildApp({ pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage: ctx.storage, rateLimits: { ...API_DEFAULTS, redisUrl: proxy.url } });
    const tenant = await ctx.tenant();
    assert.equal((await read(app, tenant)).statusCode, 200);
    assert.equal(proxy.connections, 1);
    await app.close();
    await waitFor('the connection to close', () => (proxy.connections === 0 ? true : undefined), 5_000);
  });
});
