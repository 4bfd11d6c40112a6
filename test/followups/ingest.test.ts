/**
 * A recording given as audio_url is downloaded into storage by a background job, through the
 * SSRF-safe outbound client: pending until stored (GET shows the URL as given), then signed; a
 * private destination (a name resolving to 127.0.0.1 included) is refused; a job exists only if
 * the change committed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { createPool } from '../../src/db/pool.js';
import { startWorker } from '../../src/jobs/worker.js';
import { AllowList } from '../../src/net/allow-list.js';
import { waitFor } from '../helpers/processes.js';
import { API, body, setup, type Tenant } from '../helpers/setup.js';
import { webhookDeps } from '../helpers/webhooks.js';

const ctx = await setup();
const RECORDING = randomBytes(150_000);

/**
 * A recordings server on 127.0.0.2, the one private address the worker may reach here (as
 * OUTBOUND_ALLOW=127.0.0.2 would let it): /ok.mp3, /text, /missing (404), /redirect → 127.0.0.1.
 */
async function recordings(): Promise<{ server: Server; base: string }> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/ok.mp3') {
      response.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': RECORDING.length });
      response.end(RECORDING);
    } else if (path === '/odd-type') {
      response.writeHead(200, { 'content-type': 'audio/"mpeg' });
      response.end(RECORDING);
    } else if (path === '/text') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html></html>');
    } else if (path === '/redirect') {
      response.writeHead(302, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ok.mp3` });
      response.end();
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, base: `http://127.0.0.2:${(server.address() as AddressInfo).port}` };
}

const { base } = await recordings();
const workerPool = createPool(process.env.TEST_DATABASE_URL!, 4);
const worker = await startWorker(workerPool, pino({ level: 'silent' }), { concurrency: 2, purgeSchedule: '0 0 1 1 *' }, {
  storage: ctx.storage, maxBytes: 1024 * 1024, allow: AllowList.parse('127.0.0.2').allow, timeoutMs: 5_000,
  webhooks: webhookDeps(ctx.keys, ctx.storage),
});
after(async () => {
  await worker.stop();
  await workerPool.end();
});

async function createWith(tenant: Tenant, audioUrl: string): Promise<string> {
  const created = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: await tenant.debt(), audio_url: audioUrl } });
  assert.equal(created.statusCode, 201, created.body);
  return body(created).data.id;
}
const recording = async (tenant: Tenant, id: string) =>
  body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/recording`, headers: tenant.auth })).data;
const settled = (tenant: Tenant, id: string) =>
  waitFor('the recording job', async () => {
    const state = await recording(tenant, id);
    return state.state === 'pending' ? undefined : state;
  }, 30_000);

describe('recording ingest', () => {
  test('a recording URL is downloaded; GET then signs a URL that plays it back byte-identical', async () => {
    const tenant = await ctx.tenant();
    const url = `${base}/ok.mp3`;
    const id = await createWith(tenant, url);
    const state = await settled(tenant, id);
    assert.deepEqual(state, { state: 'stored', error: null, content_type: 'audio/mpeg', size: RECORDING.length });
    const history = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/history?limit=100`, headers: tenant.auth })).data
      .filter((change: { field: string }) => change.field === 'audio');
    assert.deepEqual(history.map((c: { from: unknown; to: unknown; source: string }) => [c.from, c.to, c.source]), [
      [null, { content_type: 'audio/mpeg', size: RECORDING.length }, 'system'],
    ], 'the stored download is in the history');
    const data = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth })).data;
    assert.notEqual(data.audio_url, url);
    assert.ok(data.media_urls_expire_at);
    const { pathname, search } = new URL(data.audio_url);
    const played = await ctx.app.inject({ method: 'GET', url: pathname + search });
    assert.equal(played.statusCode, 200);
    assert.ok(Buffer.compare(played.rawPayload, RECORDING) === 0, 'byte-identical');
  });

  test('an update to a new URL downloads it; clearing audio_url ends a pending download', async () => {
    const tenant = await ctx.tenant();
    const id = await createWith(tenant, `${base}/missing`);
    assert.equal((await settled(tenant, id)).state, 'failed');
    const updated = await ctx.app.inject({ method: 'PATCH', url: `${API}/followups/${id}`, headers: tenant.auth, payload: { audio_url: `${base}/ok.mp3` } });
    assert.equal(updated.statusCode, 200);
    assert.equal((await settled(tenant, id)).state, 'stored');
  });

  test('what cannot be stored fails with a reason: not audio, a 404, a redirect to a private address, loopback names', async () => {
    const tenant = await ctx.tenant();
    const cases: [string, RegExp][] = [
      [`${base}/text`, /audio/],
      [`${base}/odd-type`, /audio/],
      [`${base}/missing`, /404/],
      [`${base}/redirect`, /private, loopback or reserved/],
      // A name that resolves to loopback (127.0.0.1 or ::1), and the address itself: the server listens there too.
      [`http://localhost:${new URL(base).port}/ok.mp3`, /private, loopback or reserved/],
      [`http://127.0.0.1:${new URL(base).port}/ok.mp3`, /private, loopback or reserved/],
      ['http://169.254.169.254/latest/meta-data', /private, loopback or reserved/],
    ];
    for (const [url, reason] of cases) {
      const id = await createWith(tenant, url);
      const state = await settled(tenant, id);
      assert.equal(state.state, 'failed', url);
      assert.match(state.error, reason, url);
      const data = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth })).data;
      assert.equal(data.audio_url, url, 'the URL as given');
      assert.equal('media_urls_expire_at' in data, false);
    }
  });

  test('until stored, GET shows the URL as given and no expiry; a job exists only if the followup was created', async () => {
    const tenant = await ctx.tenant();
    const url = `${base}/ok.mp3?unique=${randomBytes(6).toString('hex')}`;
    // graphile-worker's public view has no payload: its table is read, in this test only.
    const jobs = async () => (await ctx.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'url' = $1", [url],
    )).rows[0]!.n;
    const refused = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: ctx.ids.encode('debt', 2 ** 40), audio_url: url } });
    assert.equal(refused.statusCode, 400);
    assert.equal(await jobs(), 0, 'no job for a followup that was not created');
    // For one that was created: the URL as given until the job has stored it.
    const id = await createWith(tenant, url);
    const shown = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth })).data;
    if ((await recording(tenant, id)).state === 'pending') {
      assert.equal(shown.audio_url, url, 'the URL as given while pending');
      assert.equal('media_urls_expire_at' in shown, false);
    }
    assert.equal((await settled(tenant, id)).state, 'stored');
  });
});
