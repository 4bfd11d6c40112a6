/**
 * The same playback promise on the S3 driver: a recording uploaded for a followup plays back
 * byte-identical through the AWS presigned GET that GET returns (fetched over HTTP from a real
 * S3-protocol server on loopback), and that URL answers 403 once expired.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { pastMoment } from '../helpers/processes.js';
import { startS3rver } from '../helpers/s3.js';
import { API, body, setup } from '../helpers/setup.js';

const s3 = await startS3rver();
const ctx = await setup({ storage: s3.store(), media: { maxBytes: 1024 * 1024, urlTtlSeconds: 4 } });

describe('followup files on S3', () => {
  test('upload, GET, play the presigned URL byte-identical, then it expires', async () => {
    const tenant = await ctx.tenant();
    const created = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: await tenant.debt() } });
    const id = body(created).data.id;
    const bytes = randomBytes(300_000);
    const uploaded = await ctx.app.inject({
      method: 'PUT', url: `${API}/followups/${id}/audio`, headers: { ...tenant.auth, 'content-type': 'audio/mpeg' }, payload: bytes,
    });
    assert.equal(uploaded.statusCode, 200, uploaded.body);
    const data = body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth })).data;
    assert.ok(data.audio_url.startsWith(s3.endpoint), data.audio_url);
    assert.match(data.audio_url, /X-Amz-Signature=/);
    const played = await fetch(data.audio_url);
    assert.equal(played.status, 200);
    assert.equal(played.headers.get('content-type'), 'audio/mpeg');
    assert.ok(Buffer.compare(Buffer.from(await played.arrayBuffer()), bytes) === 0, 'byte-identical');
    await pastMoment(Date.parse(data.media_urls_expire_at));
    assert.equal((await fetch(data.audio_url)).status, 403);
  });
});
