/**
 * Files of a followup: uploads streamed into storage, served back through fresh signed URLs that
 * expire, replaced and deleted with their history; tenancy and bad input.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import type { LocalBlobStore } from '../../src/storage/local-store.js';
import { pastMoment, waitFor } from '../helpers/processes.js';
import { API, body, setup, type Tenant } from '../helpers/setup.js';
import { securityCases } from '../helpers/security.js';

const MAX = 256 * 1024;
const ctx = await setup({ media: { maxBytes: MAX, urlTtlSeconds: 3600 } });
// Links of 3 s: long enough to be played on a busy machine, short enough to wait out.
const short = await setup({ media: { maxBytes: MAX, urlTtlSeconds: 3 } });

type Ctx = typeof ctx;
const upload = (c: Ctx, tenant: Tenant, id: string, kind: 'audio' | 'pdf', bytes: Buffer, type = kind === 'audio' ? 'audio/mpeg' : 'application/pdf') =>
  c.app.inject({ method: 'PUT', url: `${API}/followups/${id}/${kind}`, headers: { ...tenant.auth, 'content-type': type }, payload: bytes });
const get = (c: Ctx, tenant: Tenant, id: string) => c.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth });
/** Fetches a signed URL the way a browser would: no credentials, only the URL. */
const play = (c: Ctx, url: string, headers: Record<string, string> = {}) => {
  const { pathname, search } = new URL(url);
  return c.app.inject({ method: 'GET', url: pathname + search, headers });
};

async function followup(c: Ctx, tenant: Tenant, fields: Record<string, unknown> = {}): Promise<string> {
  const created = await c.app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: await tenant.debt(), ...fields } });
  assert.equal(created.statusCode, 201, created.body);
  return body(created).data.id;
}

describe('followup files', () => {
  test('an uploaded recording plays back byte-identical through the audio_url GET returns, with its type, and expires in an hour', async () => {
    const tenant = await ctx.tenant();
    const id = await followup(ctx, tenant);
    const bytes = randomBytes(200_000);
    const before = Date.now();
    const stored = await upload(ctx, tenant, id, 'audio', bytes);
    assert.equal(stored.statusCode, 200, stored.body);
    const data = body(await get(ctx, tenant, id)).data;
    assert.match(data.audio_url, /\/media\//);
    const expires = Date.parse(data.media_urls_expire_at);
    assert.ok(Math.abs(expires - (before + 3_600_000)) < 10_000, data.media_urls_expire_at);
    assert.equal(data.pdf_url, null);
    const played = await play(ctx, data.audio_url);
    assert.equal(played.statusCode, 200);
    assert.equal(played.headers['content-type'], 'audio/mpeg');
    assert.ok(Buffer.compare(played.rawPayload, bytes) === 0, 'byte-identical');
    // Every read signs afresh; list items too.
    const listed = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups`, headers: tenant.auth })).data[0];
    assert.ok(listed.audio_url && listed.media_urls_expire_at);
    assert.ok(Buffer.compare((await play(ctx, listed.audio_url)).rawPayload, bytes) === 0);
  });

  test('a range of the recording is a 206', async () => {
    const tenant = await ctx.tenant();
    const id = await followup(ctx, tenant);
    const bytes = randomBytes(10_000);
    await upload(ctx, tenant, id, 'audio', bytes, 'audio/wav');
    const url = body(await get(ctx, tenant, id)).data.audio_url;
    const part = await play(ctx, url, { range: 'bytes=100-199' });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], 'bytes 100-199/10000');
    assert.ok(Buffer.compare(part.rawPayload, bytes.subarray(100, 200)) === 0);
  });

  test('the link answers 403 once expired, and a tampered one at once', async () => {
    const tenant = await short.tenant();
    const id = await followup(short, tenant);
    await upload(short, tenant, id, 'pdf', randomBytes(1000));
    const data = body(await get(short, tenant, id)).data;
    const url = data.pdf_url as string;
    const tampered = url.replace(/expires=(\d+)/, (_m, n) => `expires=${Number(n) + 3600}`);
    assert.equal((await play(short, tampered)).statusCode, 403);
    assert.equal((await play(short, url)).statusCode, 200);
    await pastMoment(Date.parse(data.media_urls_expire_at));
    const expired = await play(short, url);
    assert.equal(expired.statusCode, 403);
    assert.equal(body(expired).error, true);
  });

  test('a new upload replaces the file (the old link stops working), a delete removes it; both are in the history', async () => {
    const tenant = await ctx.tenant();
    const id = await followup(ctx, tenant);
    await upload(ctx, tenant, id, 'audio', randomBytes(500));
    const first = body(await get(ctx, tenant, id)).data.audio_url;
    const second = randomBytes(700);
    await upload(ctx, tenant, id, 'audio', second, 'audio/ogg');
    assert.equal((await play(ctx, first)).statusCode, 404);
    const current = body(await get(ctx, tenant, id)).data;
    assert.ok(Buffer.compare((await play(ctx, current.audio_url)).rawPayload, second) === 0);

    const deleted = await ctx.app.inject({ method: 'DELETE', url: `${API}/followups/${id}/audio`, headers: tenant.auth });
    assert.equal(deleted.statusCode, 200, deleted.body);
    const after = body(await get(ctx, tenant, id)).data;
    assert.equal(after.audio_url, null);
    assert.equal('media_urls_expire_at' in after, false, 'no expiry without a signed URL');
    assert.equal((await play(ctx, current.audio_url)).statusCode, 404);

    const history = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/history?limit=100`, headers: tenant.auth })).data
      .filter((change: { field: string }) => change.field === 'audio');
    assert.deepEqual(history.map((c: { from: unknown; to: unknown }) => [c.from, c.to]), [
      [null, { content_type: 'audio/mpeg', size: 500 }],
      [{ content_type: 'audio/mpeg', size: 500 }, { content_type: 'audio/ogg', size: 700 }],
      [{ content_type: 'audio/ogg', size: 700 }, null],
    ]);
    assert.ok(history.every((c: { source: string }) => c.source === `api:${tenant.clientId}`));
  });

  test('bad uploads: wrong type 415, too large 413 (nothing stored), empty 400', async () => {
    const tenant = await ctx.tenant();
    const id = await followup(ctx, tenant);
    const wrong = await upload(ctx, tenant, id, 'audio', randomBytes(10), 'text/plain');
    assert.equal(wrong.statusCode, 415);
    assert.equal(body(wrong).message, 'Unsupported Content-Type: send the file as audio/*');
    assert.equal((await upload(ctx, tenant, id, 'pdf', randomBytes(10), 'audio/mpeg')).statusCode, 415);
    const large = await upload(ctx, tenant, id, 'audio', randomBytes(MAX + 1));
    assert.equal(large.statusCode, 413);
    assert.equal(body(large).message, 'Request body is too large (limit: 256 KiB)');
    const empty = await upload(ctx, tenant, id, 'audio', Buffer.alloc(0));
    assert.equal(empty.statusCode, 400);
    assert.equal(body(await get(ctx, tenant, id)).data.audio_url, null);
  });

  test('the create response keeps exactly its keys; a URL given is shown as given until stored', async () => {
    const tenant = await ctx.tenant();
    const created = await ctx.app.inject({
      method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: await tenant.debt(), audio_url: 'https://recordings.example.com/a.mp3' },
    });
    assert.equal(created.statusCode, 201);
    assert.equal('media_urls_expire_at' in body(created).data, false);
    const data = body(await get(ctx, tenant, body(created).data.id)).data;
    assert.equal(data.audio_url, 'https://recordings.example.com/a.mp3');
    assert.equal('media_urls_expire_at' in data, false);
  });
});

describe('followup files: an upload cut short', () => {
  test('a client that goes away mid-upload leaves no file, no partial file and no change', async () => {
    const tenant = await ctx.tenant();
    const id = await followup(ctx, tenant);
    const origin = new URL(await ctx.app.listen({ host: '127.0.0.1', port: 0 }));
    const socket = connect(Number(origin.port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`PUT ${API}/followups/${id}/audio HTTP/1.1\r\nHost: x\r\nAuthorization: ${tenant.auth.authorization}\r\n`
      + 'Content-Type: audio/mpeg\r\nContent-Length: 100000\r\n\r\n');
    socket.write(randomBytes(20_000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    const dir = (ctx.storage as LocalBlobStore).dir;
    const files = async () => (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    await waitFor('the cut upload to be cleaned up', async () => ((await files()).some((name) => name.startsWith('.')) ? undefined : true), 10_000);
    const data = body(await get(ctx, tenant, id)).data;
    assert.equal(data.audio_url, null);
    const history = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/history?limit=100`, headers: tenant.auth })).data;
    assert.equal(history.some((c: { field: string }) => c.field === 'audio'), false);
    const before = new Set(await files());
    // Still serving, and the next upload of the same followup works.
    assert.equal((await upload(ctx, tenant, id, 'audio', randomBytes(100))).statusCode, 200);
    assert.equal((await files()).filter((name) => !before.has(name)).length, 1, 'one new file: the second upload');
  });
});

describe('followup files: tenancy', () => {
  test("an upload to another company's followup is a 403 and stores nothing; a forged id is a 404", async () => {
    const owner = await ctx.tenant();
    const intruder = await ctx.tenant();
    const id = await followup(ctx, owner);
    for (const kind of ['audio', 'pdf'] as const) {
      const denied = await upload(ctx, intruder, id, kind, randomBytes(100));
      assert.equal(denied.statusCode, 403);
      assert.equal(body(denied).message, 'Access denied to this followup');
      assert.equal((await upload(ctx, owner, ctx.ids.encode('debt', 1), kind, randomBytes(100))).statusCode, 404);
    }
    const data = body(await get(ctx, owner, id)).data;
    assert.deepEqual([data.audio_url, data.pdf_url], [null, null]);
    const history = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/history?limit=100`, headers: owner.auth })).data;
    assert.equal(history.some((c: { field: string }) => c.field === 'audio' || c.field === 'pdf'), false);
  });
});

securityCases(ctx, 'followup files', {
  kinds: {
    followup: {
      make: async (owner) => followup(ctx, owner),
      read: async (owner, id) => body(await get(ctx, owner, id)).data,
    },
  },
  endpoints: [
    { method: 'DELETE', path: '/followups/:id/audio', scope: 'followups:write' },
    { method: 'DELETE', path: '/followups/:id/pdf', scope: 'followups:write' },
    { method: 'GET', path: '/followups/:id/recording', scope: 'followups:read' },
  ],
});
