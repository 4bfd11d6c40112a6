import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPool } from '../../src/db/pool.js';

test('a pooled connection lost while checked out does not crash the process (it used to: no error listener)', async () => {
  const pool = createPool(process.env.TEST_DATABASE_URL!, 2);
  const killer = createPool(process.env.TEST_DATABASE_URL!, 1);
  try {
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await killer.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await assert.rejects(client.query('SELECT 1'), 'the lost connection fails its next query');
    client.release(true);
    assert.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1, 'the pool goes on with a new connection');
  } finally {
    await pool.end();
    await killer.end();
  }
});
