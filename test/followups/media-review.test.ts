/**
 * Files of a followup under the cases a careful client or an attacker reaches: a debt deleted
 * with its followups' files.
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

});
