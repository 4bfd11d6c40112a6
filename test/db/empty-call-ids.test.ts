import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = followupClient(ctx);
const MIGRATION = new URL('../../src/db/migrations/0006_empty_call_ids.sql', import.meta.url);

test('migration 0006 gives followups stored with an empty call_id null, and says so in their history', async () => {
  const tenant = await ctx.tenant();
  const debtId = await tenant.debt();
  const old = await api.created(tenant.auth, { debt_id: debtId, summary: 'stored before empty call_ids meant none' });
  const kept = await api.created(tenant.auth, { debt_id: debtId, call_id: 'real-call' });
  // As an earlier version stored it.
  await ctx.pool.query("UPDATE followups SET call_id = '' WHERE id = $1", [ctx.ids.decode('followup', old.id)]);

  await ctx.pool.query(await readFile(MIGRATION, 'utf8'));

  assert.equal(body(await api.get(tenant.auth, old.id)).data.call_id, null);
  assert.equal(body(await api.get(tenant.auth, kept.id)).data.call_id, 'real-call');
  const history = body(await api.history(tenant.auth, old.id)).data;
  assert.deepEqual(history.at(-1), { at: history.at(-1).at, field: 'call_id', from: '', to: null, source: 'system' });
  const untouched = body(await api.history(tenant.auth, kept.id)).data;
  assert.ok(untouched.every((change: { source: string }) => change.source !== 'system'), 'a real call_id is left alone');
});
