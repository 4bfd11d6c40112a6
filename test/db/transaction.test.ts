import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transaction } from '../../src/db/pool.js';
import { setup } from '../helpers/setup.js';

const ctx = await setup();

/** A deadlock victim, as PostgreSQL reports it. */
const deadlock = () => Object.assign(new Error('deadlock detected'), { code: '40P01' });

test('a transaction aborted as a deadlock victim is run again from the start, and commits once', async () => {
  const tenant = await ctx.tenant();
  let runs = 0;
  const result = await transaction(ctx.pool, async (tx) => {
    runs++;
    await tx.query("UPDATE companies SET name = name || '+' WHERE id = $1", [tenant.companyId]);
    if (runs === 1) throw deadlock();
    return 'done';
  });
  assert.equal(result, 'done');
  assert.equal(runs, 2);
  const { rows } = await ctx.pool.query('SELECT name FROM companies WHERE id = $1', [tenant.companyId]);
  assert.match(rows[0].name, /[^+]\+$/, 'the first run was rolled back');
});

test('a transaction is not run again for other errors, nor more than three times', async () => {
  let runs = 0;
  await assert.rejects(transaction(ctx.pool, async () => {
    runs++;
    throw Object.assign(new Error('duplicate key'), { code: '23505' });
  }), { code: '23505' });
  assert.equal(runs, 1);
  runs = 0;
  await assert.rejects(transaction(ctx.pool, async () => {
    runs++;
    throw deadlock();
  }), { code: '40P01' });
  assert.equal(runs, 3);
});
