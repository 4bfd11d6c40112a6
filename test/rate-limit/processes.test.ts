/**
 * Rate limits as an operator runs them: two `relance serve` processes on one PostgreSQL and one
 * Redis hold each client to one budget between them, over real HTTP; `relance client update
 * --read-limit` reaches both within moments; a serve whose Redis cannot be reached starts and
 * serves anyway, saying so in its log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { createClient } from '../../src/auth/client-service.js';
import { setClientRateLimits } from '../../src/auth/clients-repository.js';
import { insertCompany } from '../../src/companies/repository.js';
import { decodeKey } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { createDebt } from '../../src/debts/service.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys } from '../../src/security/keys.js';
import { formatTimestamp } from '../../src/time/timestamp.js';
import { freshDatabase } from '../helpers/database.js';
import { sandbox, waitFor, type Child } from '../helpers/processes.js';
import { budget, countdown, roomInWindow, statusCounts } from '../helpers/rate-limits.js';
import { testRedisUrl } from '../helpers/redis.js';
import { printedObject, runCli, startServe, stdoutObjects, tokenFor, waitForListening } from '../helpers/relance-cli.js';

const REDIS_URL = testRedisUrl();
const box = sandbox();
const SECRET_KEY = randomBytes(32).toString('hex');
const keys = deriveKeys(decodeKey(SECRET_KEY)!);
const ids = new IdCodec(keys.ids);
const DATABASE_URL = await freshDatabase();
const pool = createPool(DATABASE_URL, 2);
after(() => pool.end());
await migrate(pool);
// Up to 150 s of it may go on waiting for room in the rate-limit window.
const TIMEOUT = { timeout: 330_000 };

/** `relance serve` on the shared database, API only, with the settings given. */
async function serve(env: Record<string, string>): Promise<{ child: Child; url: string }> {
  const child = startServe(box, await box.dataDir(), { DATABASE_URL, RELANCE_SECRET_KEY: SECRET_KEY, WORKER: 'off', ...env });
  return { child, url: await waitForListening(child) };
}

async function newClient(limits: { read?: number; write?: number }) {
  const company = await insertCompany(`Processes ${randomBytes(3).toString('hex')}`, pool);
  const client = await createClient(company.id, { scopes: ['followups:read', 'followups:write'] }, keys.secrets, pool);
  await setClientRateLimits(client.client_id, limits, pool);
  return { companyId: company.id, id: client.client_id, secret: client.client_secret };
}

const call = (base: string, token: string, method = 'GET', path = '/followups?limit=1', payload?: object) =>
  fetch(`${base}/external-api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(payload && { 'content-type': 'application/json' }) },
    body: payload && JSON.stringify(payload),
    signal: AbortSignal.timeout(30_000),
  }).then(async (response) => ({ status: response.status, headers: response.headers, body: await response.json() }));

describe('two processes on one Redis', () => {
  test('share one budget per client, reads and writes apart, and a change made with the CLI reaches both', TIMEOUT, async () => {
    // A slow moment must not make a Redis call time out (that process would count in memory).
    const [a, b] = await Promise.all([serve({ REDIS_URL, REDIS_TIMEOUT_MS: '10000' }), serve({ REDIS_URL, REDIS_TIMEOUT_MS: '10000' })]);
    // The counting below, CLI run included, stays inside one hour-long window.
    await roomInWindow(3_600, 150_000);
    const client = await newClient({ read: 8, write: 4 });
    const token = await tokenFor(a.url, client.id, client.secret);

    const reads = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i % 2 ? a.url : b.url, token)));
    assert.deepEqual(statusCounts(reads), { 200: 8, 429: 12 });
    assert.deepEqual(reads.filter((r) => r.status === 200).map((r) => budget(r).remaining).sort((x, y) => x - y), countdown(8));
    for (const refused of reads.filter((r) => r.status === 429)) {
      const { reset, remaining } = budget(refused);
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.equal(remaining, 0);
      assert.deepEqual(refused.body, {
        error: true, message: 'Rate limit exceeded. Please try again later.', code: 429,
        details: { retry_after: retryAfter, limit: 8, reset_time: formatTimestamp(new Date(reset * 1000)) },
      });
    }
    assert.equal(new Set(reads.map((r) => budget(r).reset)).size, 1, 'both count in the same window');

    const debt = await createDebt(client.companyId, { body: { firstname: 'Jane', lastname: 'Doe', email: 'jane@example.com', amount: 10, currency: 'EUR' }, problems: {} }, pool);
    const debtId = ids.encode('debt', debt.id);
    const creates = await Promise.all(Array.from({ length: 10 }, (_, i) => call(i % 2 ? a.url : b.url, token, 'POST', '/followups', { debt_id: debtId, call_id: `p${i}` })));
    assert.deepEqual(statusCounts(creates), { 201: 4, 429: 6 });
    const { rows } = await pool.query('SELECT 1 FROM followups WHERE company_id = $1', [client.companyId]);
    assert.equal(rows.length, 4, 'the refused creates made nothing');

    const updated = printedObject(await runCli(box, await box.dataDir(), ['client', 'update', '--client', client.id, '--read-limit', '12'], {
      DATABASE_URL, RELANCE_SECRET_KEY: SECRET_KEY,
    }));
    assert.deepEqual(updated, { client_id: client.id, scopes: ['followups:read', 'followups:write'], read_limit: 12, write_limit: 4 });
    for (const base of [a.url, b.url]) {
      await waitFor(`${base} to apply the new budget`, async () => (budget(await call(base, token)).limit === 12 ? true : undefined), 10_000);
    }
    // 8 counted before, 2 by the polls above (the refused polls counted nothing): 2 left between the two.
    const rest = await Promise.all(Array.from({ length: 6 }, (_, i) => call(i % 2 ? a.url : b.url, token)));
    assert.deepEqual(statusCounts(rest), { 200: 2, 429: 4 });
  });
});

test('a serve whose Redis cannot be reached starts, serves every request with its budget, and logs a warning', TIMEOUT, async () => {
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const { child, url } = await serve({ REDIS_URL: `redis://127.0.0.1:${closedPort}`, REDIS_TIMEOUT_MS: '200' });
  const client = await newClient({ read: 5 });
  const token = await tokenFor(url, client.id, client.secret);
  const responses = await Promise.all(Array.from({ length: 8 }, () => call(url, token)));
  assert.deepEqual(statusCounts(responses), { 200: 5, 429: 3 }, 'counted in the process\'s memory');
  const warnings = stdoutObjects(child).filter((line) => line.level === 40 && String(line.msg).startsWith('Redis unavailable'));
  assert.ok(warnings.length >= 1 && warnings.length <= 2, JSON.stringify(warnings));
  assert.ok(!child.stdout.includes(token) && !child.stdout.includes(client.secret), 'no secret in the logs');
});
