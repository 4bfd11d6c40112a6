import assert from 'node:assert/strict';
import pg from 'pg';
import pino from 'pino';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';
import { within } from './processes.js';

/** For tests that start embedded servers of their own. */
export const TIMEOUT = { timeout: 120_000 };
// Longer than any start should take, shorter than the test timeout: a hang fails with a message.
const START_MS = 45_000;
const log = pino({ level: 'silent' });

export const start = (dir: string) => within(startEmbedded(dir, log), START_MS, 'startEmbedded');
export const stop = (server: EmbeddedServer) => within(server.stop(), START_MS, 'stop()');

/** Runs one statement on a connection of its own. */
export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Starts the server of `dir`, hands it to `use`, and stops it whether `use` passes or throws. */
export async function withServer<T>(dir: string, use: (server: EmbeddedServer) => Promise<T>): Promise<T> {
  const server = await start(dir);
  try {
    return await use(server);
  } finally {
    await stop(server);
  }
}

/** Asserts that the server at `url` answers a query. */
export async function assertAnswers(url: string, message?: string): Promise<void> {
  assert.deepEqual(await query(url, 'SELECT 1 AS one'), [{ one: 1 }], message);
}
