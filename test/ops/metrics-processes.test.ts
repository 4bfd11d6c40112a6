/**
 * /metrics as an operator runs it: `relance worker`, which has no API, serves it on METRICS_PORT;
 * `relance serve` serves it on the API port with METRICS_TOKEN and on METRICS_PORT, with the
 * in-process worker's pool and webhook deliveries in the same figures. Each on a database of its own; both stop
 * cleanly on SIGTERM, listener included.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { createClient } from '../../src/auth/client-service.js';
import { SCOPES } from '../../src/auth/scopes.js';
import { insertCompany } from '../../src/companies/repository.js';
import { decodeKey } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { enqueue } from '../../src/jobs/queue.js';
import { deriveKeys } from '../../src/security/keys.js';
import { freshDatabase } from '../helpers/database.js';
import { samplesOf, valueOf } from '../helpers/metrics.js';
import { relanceEnv, sandbox, waitFor, type Child } from '../helpers/processes.js';
import { stdoutObjects, tokenFor, waitForListening } from '../helpers/relance-cli.js';

const box = sandbox();
const SECRET_KEY = randomBytes(32).toString('hex');
const METRICS_TOKEN = randomBytes(32).toString('hex');
const TIMEOUT = { timeout: 120_000 };

/** A migrated database holding one ingest job due in an hour. */
async function databaseWithJob(): Promise<string> {
  const url = await freshDatabase();
  const pool = createPool(url, 1);
  try {
    await migrate(pool);
    await enqueue(pool, 'ingest_recording', { followupId: 0 }, { runAt: new Date(Date.now() + 3_600_000) });
  } finally {
    await pool.end();
  }
  return url;
}

/** The address of the metrics listener, from its "metrics listening" log line. */
function metricsAddress(child: Child): Promise<string> {
  return child.waitFor('the metrics listener', () => stdoutObjects(child).find((line) => line.msg === 'metrics listening')?.address as string | undefined);
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** A client of a new company of the database at `url`, with a token from the server at `base`. */
async function apiClient(url: string, base: string): Promise<{ authorization: string }> {
  const pool = createPool(url, 1);
  try {
    const company = await insertCompany('Metrics', pool);
    const client = await createClient(company.id, { scopes: [...SCOPES] }, deriveKeys(decodeKey(SECRET_KEY)!).secrets, pool);
    return { authorization: `Bearer ${await tokenFor(base, client.client_id, client.client_secret)}` };
  } finally {
    await pool.end();
  }
}

async function post(url: string, headers: Record<string, string>, payload: object): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(payload), signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: await response.text() };
}

async function stop(child: Child, address: string): Promise<void> {
  child.kill('SIGTERM');
  assert.deepEqual(await child.waitForExit(30_000), { code: 0, signal: null }, child.describe());
  await assert.rejects(fetch(`${address}/metrics`, { signal: AbortSignal.timeout(5_000) }), 'the listener is closed');
}

describe('processes serving /metrics', { concurrency: true }, () => {
  test('relance worker serves its pool and the job queue on METRICS_PORT', TIMEOUT, async () => {
    const env = relanceEnv(await box.dataDir(), {
      DATABASE_URL: await databaseWithJob(), RELANCE_SECRET_KEY: SECRET_KEY, METRICS_PORT: '0', WORKER_CONCURRENCY: '3', LOG_LEVEL: 'info',
    });
    const child = box.node(['src/cli/main.ts', 'worker'], env, { label: 'relance worker' });
    const address = await metricsAddress(child);
    assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/, 'on loopback by default');
    await child.waitFor('the worker to run', () => (stdoutObjects(child).some((line) => line.msg === 'worker running') ? true : undefined));
    // The first read of the queue opens a connection, which may outlast a scrape's wait on a busy machine.
    const scraped = await waitFor('the job queue to be read', async () => {
      const response = await get(`${address}/metrics`);
      return response.status === 200 && valueOf(response.text, 'relance_metrics_database_up', { read: 'job_queue' }) === 1 ? response : undefined;
    }, 30_000);
    assert.equal(scraped.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(valueOf(scraped.text, 'relance_db_pool_max_connections', { pool: 'worker' }), 5);
    assert.deepEqual(samplesOf(scraped.text, 'relance_db_pool_connections', { pool: 'api' }), [], 'no API in this process');
    assert.equal(valueOf(scraped.text, 'relance_job_queue_jobs', { task: 'ingest_recording', state: 'scheduled' }), 1);
    assert.equal(valueOf(scraped.text, 'relance_webhook_delivery_attempts_total', { outcome: 'delivered' }), 0);
    await stop(child, address);
  });

  test('relance serve: /metrics on the API port with METRICS_TOKEN, and on METRICS_PORT with the worker\'s pool and deliveries', TIMEOUT, async () => {
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        received.push(String(request.headers['webhook-id']));
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const url = await databaseWithJob();
    const env = relanceEnv(await box.dataDir(), {
      DATABASE_URL: url, RELANCE_SECRET_KEY: SECRET_KEY, PORT: '0', METRICS_PORT: '0', METRICS_TOKEN, LOG_LEVEL: 'info',
      WEBHOOK_ALLOW_HTTP: 'true', OUTBOUND_ALLOW: '127.0.0.1',
    });
    const child = box.node(['src/cli/main.ts', 'serve'], env, { label: 'relance serve' });
    const base = await waitForListening(child);
    const address = await metricsAddress(child);
    assert.notEqual(new URL(base).port, new URL(address).port);

    assert.equal((await get(`${base}/metrics`)).status, 401);
    assert.equal((await get(`${base}/health`)).status, 200);
    const api = await get(`${base}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    assert.equal(api.status, 200, api.text);
    assert.equal(valueOf(api.text, 'relance_http_requests_total', { route: '/health', method: 'GET', status: '200' }), 1);
    const own = await get(`${address}/metrics`);
    assert.equal(own.status, 200, own.text);
    assert.equal(valueOf(own.text, 'relance_db_pool_max_connections', { pool: 'api' }), 10);
    assert.equal(valueOf(own.text, 'relance_db_pool_max_connections', { pool: 'worker' }), 4);
    assert.equal(valueOf(own.text, 'relance_http_requests_total', { route: '/health', method: 'GET', status: '200' }), 1, 'one registry for both');

    // A delivery made by the in-process worker is counted where the API's figures are.
    const auth = await apiClient(url, base);
    const subscribed = await post(`${base}/external-api/v1/webhooks`, auth, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['debt.created'] });
    assert.equal(subscribed.status, 201, subscribed.text);
    const debt = await post(`${base}/external-api/v1/debts`, auth, { firstname: 'Jane', lastname: 'Doe', email: 'jane@example.com', amount: 10, currency: 'EUR' });
    assert.equal(debt.status, 201, debt.text);
    await waitFor('the delivery', () => (received.length > 0 ? true : undefined));
    const counted = await waitFor('the delivery to be counted', async () => {
      const text = (await get(`${address}/metrics`)).text;
      return valueOf(text, 'relance_webhook_deliveries', { status: 'delivered' }) === 1 ? text : undefined;
    }, 30_000);
    assert.equal(valueOf(counted, 'relance_webhook_delivery_attempts_total', { outcome: 'delivered' }), 1);
    assert.equal(valueOf(counted, 'relance_webhook_delivery_attempts_total', { outcome: 'failed_http' }), 0);
    assert.equal(valueOf(counted, 'relance_webhook_deliveries', { status: 'pending' }), 0);
    assert.ok(!child.stdout.includes(METRICS_TOKEN), 'the token is never logged');
    await stop(child, address);
  });
});
