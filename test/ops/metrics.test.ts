/**
 * GET /metrics: protected on the API's port by METRICS_TOKEN (404 without one configured),
 * open on a listener of its own; counters that move with real requests, labelled by route
 * pattern; pool gauges; the job queue and webhook deliveries read from the database at scrape
 * time, through a cache, and left out (never a 500) when the database does not answer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { DEFAULT_DATABASE_LIMITS } from '../../src/config.js';
import { createClient } from '../../src/auth/client-service.js';
import { SCOPES } from '../../src/auth/scopes.js';
import { insertCompany } from '../../src/companies/repository.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { enqueue } from '../../src/jobs/queue.js';
import { Metrics, RATE_LIMIT_BUCKETS, WEBHOOK_DELIVERY_OUTCOMES } from '../../src/ops/metrics.js';
import { DATABASE_READ_TTL_MS } from '../../src/ops/metrics-database.js';
import { listenMetrics } from '../../src/ops/metrics-server.js';
import { deriveKeys } from '../../src/security/keys.js';
import { freshDatabase } from '../helpers/database.js';
import { hasHelp, parseExposition, samplesOf, valueOf } from '../helpers/metrics.js';
import { waitFor } from '../helpers/processes.js';
import { silentServer } from '../helpers/silent-server.js';
import { API, body, setup } from '../helpers/setup.js';
import { testStore } from '../helpers/storage.js';

const ctx = await setup();
const TOKEN = randomBytes(32).toString('hex');
const SCRAPE = { authorization: `Bearer ${TOKEN}` };
const silent = pino({ level: 'silent' });

/** An app with METRICS_TOKEN set, on `pool` (default: the test database), closed after the file. */
async function appWithToken(pool: Pool = ctx.pool, options: { databaseQueueLimit?: number; metrics?: Metrics } = {}): Promise<FastifyInstance> {
  const app = await buildApp({ pool, keys: ctx.keys, logger: silent, storage: ctx.storage, metricsToken: TOKEN, ...options });
  after(() => app.close());
  return app;
}

async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers: SCRAPE });
  assert.equal(response.statusCode, 200, response.body);
  return response.body;
}

/** Scrapes until `done` holds: the database's figures are cached for DATABASE_READ_TTL_MS. */
function scrapeUntil(app: FastifyInstance, what: string, done: (text: string) => boolean): Promise<string> {
  return waitFor(what, async () => {
    const text = await scrape(app);
    return done(text) ? text : undefined;
  }, DATABASE_READ_TTL_MS * 6);
}

const app = await appWithToken();
// A database of its own, where no worker takes the jobs or deliveries made here.
const url = await freshDatabase();
const pool = createPool(url, 3);
after(() => pool.end());
await migrate(pool);
const queueApp = await appWithToken(pool);


describe('/metrics on the API port', () => {
  test('without METRICS_TOKEN configured, /metrics is a plain 404', async () => {
    for (const headers of [{}, SCRAPE]) {
      const response = await ctx.app.inject({ method: 'GET', url: '/metrics', headers });
      assert.equal(response.statusCode, 404);
      assert.equal(body(response).message, 'Route GET /metrics not found');
    }
  });

  test('with it: no token, a wrong one, another scheme or an API access token are 401; the token is 200 in the text format', async () => {
    const tenant = await ctx.tenant();
    for (const authorization of [undefined, `Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN, `Bearer ${tenant.token}`, 'Bearer']) {
      const response = await app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
      assert.equal(response.statusCode, 401, `${authorization}: ${response.body}`);
      assert.equal(body(response).message, 'Authentication credentials are missing or invalid');
      assert.match(String(response.headers['www-authenticate']), /^Bearer /);
      assert.doesNotMatch(response.body, /relance_|nodejs_/);
    }
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `bearer  ${TOKEN}` } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(response.headers['cache-control'], 'no-store');
    parseExposition(response.body);
  });

  test('every Relance metric has HELP text, and the process metrics are there', async () => {
    const text = await scrape(app);
    const names = new Set(text.split('\n').filter((line) => line.startsWith('# TYPE relance_')).map((line) => line.split(' ')[2]!));
    for (const name of [
      'relance_http_requests_total', 'relance_http_request_duration_seconds', 'relance_db_pool_connections', 'relance_db_pool_idle_connections',
      'relance_db_pool_in_use_connections', 'relance_db_pool_waiting_requests', 'relance_db_pool_max_connections', 'relance_job_queue_jobs',
      'relance_job_queue_oldest_ready_seconds', 'relance_webhook_deliveries', 'relance_webhook_delivery_attempts_total',
      'relance_rate_limit_rejections_total', 'relance_metrics_database_up',
    ]) {
      assert.ok(names.has(name), `${name} is exposed`);
    }
    for (const name of names) assert.ok(hasHelp(text, name), `${name} has HELP text`);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(samplesOf(text, name).length > 0, `${name} is exposed`);
    }
  });

  test('requests are counted by route pattern, method and status, never by raw URL; /metrics does not count itself', async () => {
    const tenant = await ctx.tenant();
    const followupId = await tenant.followup(await tenant.debt());
    const route = `${API}/followups/:id`;
    const before = await scrape(app);
    const unknown = `/nope-${randomBytes(6).toString('hex')}`;
    const answers = await Promise.all([
      app.inject({ method: 'GET', url: `${API}/followups/${followupId}`, headers: tenant.auth }),
      app.inject({ method: 'GET', url: `${API}/followups/${followupId}?x=1`, headers: tenant.auth }),
      app.inject({ method: 'GET', url: `${API}/followups/${followupId}` }),
      app.inject({ method: 'GET', url: unknown }),
    ]);
    assert.deepEqual(answers.map((answer) => answer.statusCode), [200, 200, 401, 404]);
    const text = await scrape(app);
    const delta = (name: string, labels: Record<string, string>) => (valueOf(text, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);
    assert.equal(delta('relance_http_requests_total', { route, method: 'GET', status: '200' }), 2);
    assert.equal(delta('relance_http_requests_total', { route, method: 'GET', status: '401' }), 1);
    assert.equal(delta('relance_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }), 1);
    assert.equal(delta('relance_http_request_duration_seconds_count', { route, method: 'GET' }), 3);
    const sum = valueOf(text, 'relance_http_request_duration_seconds_sum', { route, method: 'GET' })!;
    assert.ok(sum > 0, 'latencies are observed in seconds');
    const inf = valueOf(text, 'relance_http_request_duration_seconds_bucket', { route, method: 'GET', le: '+Inf' });
    assert.equal(inf, valueOf(text, 'relance_http_request_duration_seconds_count', { route, method: 'GET' }));
    for (const raw of [followupId, unknown.slice(1), 'x=1']) assert.ok(!text.includes(raw), `${raw} is not a label`);
    assert.deepEqual(samplesOf(text, 'relance_http_requests_total', { route: '/metrics' }), [], 'scrapes are not counted');
    assert.equal(valueOf(await scrape(app), 'relance_http_requests_total', { route, method: 'GET', status: '200' }), valueOf(text, 'relance_http_requests_total', { route, method: 'GET', status: '200' }));
  });

  test('pool gauges are read at scrape time', async () => {
    const text = await scrape(app);
    const api = { pool: 'api' };
    assert.equal(valueOf(text, 'relance_db_pool_max_connections', api), 5);
    const total = valueOf(text, 'relance_db_pool_connections', api)!;
    assert.ok(total >= 1 && total <= 5, `total ${total}`);
    assert.equal(valueOf(text, 'relance_db_pool_idle_connections', api)! + valueOf(text, 'relance_db_pool_in_use_connections', api)!, total);
    assert.equal(valueOf(text, 'relance_db_pool_waiting_requests', api), 0);

    // Held connections show as in use while held.
    const held = await Promise.all([ctx.pool.connect(), ctx.pool.connect()]);
    try {
      assert.ok(valueOf(await scrape(app), 'relance_db_pool_in_use_connections', api)! >= 2);
    } finally {
      for (const client of held) client.release();
    }
  });

  test('webhook delivery and rate-limit counters start at 0 for every label and count what features report', async () => {
    const metrics = new Metrics(ctx.pool, silent);
    const counting = await appWithToken(ctx.pool, { metrics });
    const before = await scrape(counting);
    for (const outcome of WEBHOOK_DELIVERY_OUTCOMES) assert.equal(valueOf(before, 'relance_webhook_delivery_attempts_total', { outcome }), 0);
    for (const bucket of RATE_LIMIT_BUCKETS) assert.equal(valueOf(before, 'relance_rate_limit_rejections_total', { bucket }), 0);
    metrics.webhookDeliveryAttempt('delivered');
    metrics.webhookDeliveryAttempt('delivered');
    metrics.webhookDeliveryAttempt('timeout');
    metrics.rateLimitRejection('write');
    const text = await scrape(counting);
    assert.equal(valueOf(text, 'relance_webhook_delivery_attempts_total', { outcome: 'delivered' }), 2);
    assert.equal(valueOf(text, 'relance_webhook_delivery_attempts_total', { outcome: 'timeout' }), 1);
    assert.equal(valueOf(text, 'relance_webhook_delivery_attempts_total', { outcome: 'blocked' }), 0);
    assert.equal(valueOf(text, 'relance_rate_limit_rejections_total', { bucket: 'write' }), 1);
    assert.equal(valueOf(text, 'relance_rate_limit_rejections_total', { bucket: 'read' }), 0);
    // Each app has its own registry: the app of the other tests counted none of these.
    assert.equal(valueOf(await scrape(app), 'relance_webhook_delivery_attempts_total', { outcome: 'delivered' }), 0);
  });

  test('/metrics is not shed with the API when the pool queue is full', async () => {
    const shedding = await appWithToken(ctx.pool, { databaseQueueLimit: 0 });
    const tenant = await ctx.tenant();
    assert.equal((await shedding.inject({ method: 'GET', url: `${API}/followups`, headers: tenant.auth })).statusCode, 503);
    const text = await scrape(shedding);
    assert.equal(valueOf(text, 'relance_http_requests_total', { route: `${API}/followups`, method: 'GET', status: '503' }), 1);
  });
});

describe('the database at scrape time', () => {
  test('queue depth by task and state reflects enqueued jobs, and a task whose jobs are gone shows 0', { timeout: 60_000 }, async () => {
    // The first read opens a connection, which may outlast a scrape's wait on a busy machine.
    const first = await scrapeUntil(queueApp, 'the job queue to be read', (text) => valueOf(text, 'relance_metrics_database_up', { read: 'job_queue' }) === 1);
    assert.deepEqual(samplesOf(first, 'relance_job_queue_jobs', { task: 'ingest_recording' }), []);

    // No worker runs on this database: the jobs stay where they are put.
    await enqueue(pool, 'ingest_recording', { followupId: 0 });
    await enqueue(pool, 'ingest_recording', { followupId: 0 }, { runAt: new Date(Date.now() + 3_600_000) });
    await enqueue(pool, 'ingest_recording', { followupId: 0 }, { runAt: new Date(Date.now() + 3_600_000) });
    await enqueue(pool, 'ingest_recording', { followupId: 0 }, { jobKey: 'out-of-attempts' });
    await pool.query("SELECT graphile_worker.permanently_fail_jobs(array_agg(id), 'test') FROM graphile_worker.jobs WHERE key = 'out-of-attempts'");

    const text = await scrapeUntil(queueApp, 'the enqueued jobs', (current) => valueOf(current, 'relance_job_queue_jobs', { task: 'ingest_recording', state: 'scheduled' }) === 2);
    const ingest = (state: string) => valueOf(text, 'relance_job_queue_jobs', { task: 'ingest_recording', state });
    assert.deepEqual([ingest('ready'), ingest('scheduled'), ingest('locked'), ingest('failed')], [1, 2, 0, 1]);
    assert.ok(valueOf(text, 'relance_job_queue_oldest_ready_seconds', { task: 'ingest_recording' })! >= 0);

    await pool.query("SELECT graphile_worker.complete_jobs(array_agg(id)) FROM graphile_worker.jobs WHERE task_identifier = 'ingest_recording'");
    const emptied = await scrapeUntil(queueApp, 'the emptied queue', (current) => valueOf(current, 'relance_job_queue_jobs', { task: 'ingest_recording', state: 'scheduled' }) === 0);
    assert.equal(valueOf(emptied, 'relance_job_queue_jobs', { task: 'ingest_recording', state: 'ready' }), 0);
    assert.equal(valueOf(emptied, 'relance_job_queue_oldest_ready_seconds', { task: 'ingest_recording' }), 0);
  });

  test('webhook deliveries by status, written by a real subscription and change; none while the table is missing; a locked table hides only them', { timeout: 60_000 }, async () => {
    const company = await insertCompany('Metrics', pool);
    const client = await createClient(company.id, { scopes: [...SCOPES] }, ctx.keys.secrets, pool);
    const issued = await queueApp.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret } });
    const auth = { authorization: `Bearer ${body(issued).access_token}` };
    const subscribed = await queueApp.inject({ method: 'POST', url: `${API}/webhooks`, headers: auth, payload: { url: 'https://receiver.example.com/hook', events: ['debt.created'] } });
    assert.equal(subscribed.statusCode, 201, subscribed.body);
    const debt = await queueApp.inject({ method: 'POST', url: `${API}/debts`, headers: auth, payload: { firstname: 'Jane', lastname: 'Doe', email: 'jane@example.com', amount: 10, currency: 'EUR' } });
    assert.equal(debt.statusCode, 201, debt.body);

    const text = await scrapeUntil(queueApp, 'the pending delivery', (current) => valueOf(current, 'relance_webhook_deliveries', { status: 'pending' }) === 1);
    assert.equal(valueOf(text, 'relance_webhook_deliveries', { status: 'delivered' }), 0);
    assert.equal(valueOf(text, 'relance_webhook_deliveries', { status: 'failed' }), 0);
    assert.equal(valueOf(text, 'relance_metrics_database_up', { read: 'webhook_deliveries' }), 1);

    // A database migrated before webhooks has no such table: no gauge, and no error.
    await pool.query('ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_away');
    try {
      const missing = await scrapeUntil(queueApp, 'the missing table', (current) => samplesOf(current, 'relance_webhook_deliveries').length === 0);
      assert.equal(valueOf(missing, 'relance_metrics_database_up', { read: 'webhook_deliveries' }), 1);
    } finally {
      await pool.query('ALTER TABLE webhook_deliveries_away RENAME TO webhook_deliveries');
    }

    // A count stuck behind a lock gives up at the lock timeout; the queue is still read.
    const locker = await pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE');
      const locked = await scrapeUntil(queueApp, 'the locked table', (current) =>
        valueOf(current, 'relance_metrics_database_up', { read: 'webhook_deliveries' }) === 0 && valueOf(current, 'relance_metrics_database_up', { read: 'job_queue' }) === 1);
      assert.deepEqual(samplesOf(locked, 'relance_webhook_deliveries'), []);
      assert.ok(samplesOf(locked, 'relance_job_queue_jobs').length > 0, 'the queue is shown');
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await scrapeUntil(queueApp, 'the table again', (current) => valueOf(current, 'relance_webhook_deliveries', { status: 'pending' }) === 1);
  });

  test('concurrent scrapes share one database read', async () => {
    const reads = { count: 0 };
    const countingPool = createPool(url, 3);
    after(() => countingPool.end());
    countingPool.on('acquire', () => reads.count++);
    const scraped = await appWithToken(countingPool);
    await scrape(scraped); // the app's own start-up queries are done
    const start = reads.count;
    const texts = await Promise.all(Array.from({ length: 20 }, () => scrape(scraped)));
    for (const text of texts) assert.equal(valueOf(text, 'relance_metrics_database_up', { read: 'job_queue' }), 1);
    // One round: the queue, then the deliveries, each on a connection taken for it.
    assert.ok(reads.count - start <= 2, `${reads.count - start} connections taken for 20 scrapes`);
  });
});

describe('a database that cannot be reached', () => {
  test('refusing connections: /metrics is 200 with every other metric, and relance_metrics_database_up 0 for each read', async () => {
    // Port 1 on loopback: nothing listens there.
    const pool = createPool('postgres://relance:x@127.0.0.1:1/relance', 1);
    after(() => pool.end());
    const down = await appWithToken(pool);
    const text = await scrape(down);
    assert.equal(valueOf(text, 'relance_metrics_database_up', { read: 'job_queue' }), 0);
    assert.equal(valueOf(text, 'relance_metrics_database_up', { read: 'webhook_deliveries' }), 0);
    assert.deepEqual(samplesOf(text, 'relance_job_queue_jobs'), []);
    assert.deepEqual(samplesOf(text, 'relance_webhook_deliveries'), []);
    assert.equal(valueOf(text, 'relance_db_pool_max_connections', { pool: 'api' }), 1);
    assert.ok(samplesOf(text, 'process_resident_memory_bytes').length === 1);
    assert.equal(valueOf(text, 'relance_webhook_delivery_attempts_total', { outcome: 'delivered' }), 0);
  });

  test('accepting connections but never answering: the scrape still answers, without the database gauges', { timeout: 30_000 }, async () => {
    const { port } = await silentServer();
    const pool = createPool(`postgres://relance:x@127.0.0.1:${port}/relance`, 1, { ...DEFAULT_DATABASE_LIMITS, statementTimeoutMs: 1_000, connectTimeoutMs: 4_000, queueLimit: 10 });
    after(() => pool.end().catch(() => {}));
    const keys = deriveKeys(randomBytes(32));
    const hanging = await buildApp({ pool, keys, logger: silent, storage: await testStore(keys), metricsToken: TOKEN });
    after(() => hanging.close());
    const text = await scrape(hanging);
    assert.deepEqual(samplesOf(text, 'relance_metrics_database_up').map((sample) => sample.value), [0, 0]);
    assert.deepEqual(samplesOf(text, 'relance_job_queue_jobs'), []);
    assert.deepEqual(samplesOf(text, 'relance_webhook_deliveries'), []);
    assert.ok(samplesOf(text, 'nodejs_eventloop_lag_seconds').length === 1);
  });
});

describe('METRICS_PORT: a listener of its own', () => {
  test('serves /metrics without a token, the same figures as the app it is given, and nothing else', async () => {
    const metrics = new Metrics(ctx.pool, silent);
    const served = await appWithToken(ctx.pool, { metrics });
    const listener = await listenMetrics(metrics, { host: '127.0.0.1', port: 0 }, silent);
    after(() => listener.close());
    assert.match(listener.address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await served.inject({ method: 'GET', url: '/health' })).statusCode, 200);

    const response = await fetch(`${listener.address}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    assert.equal(valueOf(text, 'relance_http_requests_total', { route: '/health', method: 'GET', status: '200' }), 1);
    assert.equal(valueOf(text, 'relance_db_pool_max_connections', { pool: 'api' }), 5);

    const other = await fetch(`${listener.address}/health`);
    assert.equal(other.status, 404);
    assert.match(await other.text(), /serves GET \/metrics only/);
    const again = await (await fetch(`${listener.address}/metrics`)).text();
    assert.deepEqual(samplesOf(again, 'relance_http_requests_total', { route: '/metrics' }), []);
  });

  test('a port that is taken is refused with a message naming METRICS_PORT', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    after(() => taken.close());
    const port = (taken.address() as AddressInfo).port;
    await assert.rejects(listenMetrics(new Metrics(ctx.pool, silent), { host: '127.0.0.1', port }, silent), (error: Error) => {
      assert.equal(error.name, 'StartRefused');
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}: the port is already in use: set METRICS_PORT to a free port`));
      return true;
    });
  });
});
