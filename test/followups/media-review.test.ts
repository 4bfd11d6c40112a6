/**
 * Files of a followup under the cases a careful client or an attacker reaches: a debt deleted
 * with its followups' files, an update that re-sends the recording URL it already has, an
 * audio_url moved to one of Relance's own links while a download waits.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { API, body, setup, type Tenant } from '../helpers/setup.js';

const ctx = await setup({ media: { maxBytes: 256 * 1024, urlTtlSeconds: 3600 } });

const upload = (tenant: Tenant, id: string, kind: 'audio' | 'pdf', bytes: Buffer) =>
  ctx.app.inject({
    method: 'PUT', url: `${API}/followups/${id}/${kind}`,
    headers: { ...tenant.auth, 'content-type': kind === 'audio' ? 'audio/mpeg' : 'application/pdf' }, payload: bytes,
  });
const get = async (tenant: Tenant, id: string) => body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth })).data;
const recording = async (tenant: Tenant, id: string) =>
  body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/recording`, headers: tenant.auth })).data;
const patch = (tenant: Tenant, id: string, payload: Record<string, unknown>) =>
  ctx.app.inject({ method: 'PATCH', url: `${API}/followups/${id}`, headers: tenant.auth, payload });
const play = (url: string) => {
  const { pathname, search } = new URL(url);
  return ctx.app.inject({ method: 'GET', url: pathname + search });
};

async function followup(tenant: Tenant, debtId: string, fields: Record<string, unknown> = {}): Promise<string> {
  const created = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: debtId, ...fields } });
  assert.equal(created.statusCode, 201, created.body);
  return body(created).data.id;
}

describe('followup files: review cases', () => {
  test("deleting a debt deletes its followups' files: a link signed before no longer serves them", async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const id = await followup(tenant, debtId);
    assert.equal((await upload(tenant, id, 'audio', randomBytes(2000))).statusCode, 200);
    assert.equal((await upload(tenant, id, 'pdf', randomBytes(1000))).statusCode, 200);
    const { audio_url: audio, pdf_url: pdf } = await get(tenant, id);
    assert.equal((await play(audio)).statusCode, 200);
    const deleted = await ctx.app.inject({ method: 'DELETE', url: `${API}/debts/${debtId}`, headers: tenant.auth });
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.equal((await play(audio)).statusCode, 404, 'the recording of a deleted debt is still served');
    assert.equal((await play(pdf)).statusCode, 404, 'the PDF of a deleted debt is still served');
  });

  test('an update that re-sends the audio_url the followup already has keeps its stored recording', async () => {
    const tenant = await ctx.tenant();
    const url = 'https://recordings.example.com/call-1.mp3';
    const id = await followup(tenant, await tenant.debt(), { audio_url: url });
    assert.equal((await upload(tenant, id, 'audio', randomBytes(2000))).statusCode, 200);
    assert.equal((await recording(tenant, id)).state, 'stored');
    // A client syncing its own copy of the followup sends every field again.
    const updated = await patch(tenant, id, { status: 'sent', audio_url: url });
    assert.equal(updated.statusCode, 200, updated.body);
    assert.equal((await recording(tenant, id)).state, 'stored', 'an unchanged audio_url started a new download');
    const data = await get(tenant, id);
    assert.notEqual(data.audio_url, url, 'the stored recording is hidden behind the URL given');
    assert.ok(data.media_urls_expire_at);
  });

  test('an audio_url moved to one of our own links ends the download waiting for the old one', async () => {
    const tenant = await ctx.tenant();
    const debtId = await tenant.debt();
    const other = await followup(tenant, debtId);
    assert.equal((await upload(tenant, other, 'audio', randomBytes(500))).statusCode, 200);
    // A link of ours, under the PUBLIC_URL the app was built with (http://127.0.0.1:3000).
    const signed = new URL((await get(tenant, other)).audio_url as string);
    const own = `http://127.0.0.1:3000${signed.pathname}${signed.search}`;
    const id = await followup(tenant, debtId, { audio_url: 'https://recordings.example.com/call-2.mp3' });
    assert.equal((await recording(tenant, id)).state, 'pending');
    assert.equal((await patch(tenant, id, { audio_url: own })).statusCode, 200);
    // No job waits for this URL (ours are never downloaded): pending would be forever.
    assert.equal((await recording(tenant, id)).state, null);
  });
});
