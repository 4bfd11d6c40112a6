import pg from 'pg';
import { DEFAULT_DATABASE_LIMITS, type DatabaseLimits } from '../config.js';

export type Pool = pg.Pool;
/** Anything that runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

// Return BIGINT (int8) ids as JS numbers: identities stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** Prefix of every Relance session's application_name, followed by the process id. */
export const APPLICATION = 'relance/';

/**
 * Every connection is set up the same way, whatever the server's or database's own defaults:
 * - TimeZone UTC: timestamps read back (history values, cursors) are always in +00:00, so a
 *   server whose default zone is Europe/Paris cannot change what the API returns;
 * - statement_timeout: no query runs for ever (a request waiting on it answers 503);
 * - idle_in_transaction_session_timeout: a transaction left open cannot hold locks for ever.
 * A request waits at most `connectTimeoutMs` for a pooled connection (then 503).
 */
export function createPool(url: string, max: number, limits: DatabaseLimits = DEFAULT_DATABASE_LIMITS): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: limits.connectTimeoutMs,
    options: '-c TimeZone=UTC',
    // Which Relance process a session belongs to: `key reset` refuses while others are connected.
    application_name: `${APPLICATION}${process.pid}`,
    statement_timeout: limits.statementTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
    keepAlive: true,
  });
  // A client losing its connection must not crash the process: idle, the pool drops it; in use,
  // its query fails and the request answers 503.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
/** SQLSTATEs after which the same work, run again, can succeed: deadlock, serialization failure. */
const TRANSIENT = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

/**
 * Runs `work` again (up to 3 times in all) when PostgreSQL aborted it as the victim of a deadlock
 * or a serialization failure: the other side has gone on, so a new attempt usually succeeds, or
 * fails for a reason the client can act on. `work` must be a whole transaction (or a single
 * statement): nothing of a failed attempt remains.
 */
export async function retryTransient<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= ATTEMPTS || !TRANSIENT.has((error as { code?: string }).code ?? '')) throw error;
    }
  }
}

/**
 * Runs `work` in one transaction, rolled back if it throws, and run afresh if PostgreSQL aborted
 * it as a deadlock or serialization victim (so `work` must only act on the database).
 */
export function transaction<T>(pool: Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return retryTransient(() => attempt(pool, work));
}

async function attempt<T>(pool: Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Runs `work` atomically in `db`: in a new transaction if `db` is the pool, else in the
 * transaction `db` is already in (every client Relance hands around outside the pool is one).
 */
export function atomically<T>(db: Queryable, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return db instanceof pg.Pool ? transaction(db, work) : work(db);
}
