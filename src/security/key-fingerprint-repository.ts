import { APPLICATION, type Queryable } from '../db/pool.js';

export async function findKeyFingerprint(db: Queryable): Promise<string | undefined> {
  const { rows } = await db.query<{ fingerprint: string }>('SELECT fingerprint FROM key_fingerprint');
  return rows[0]?.fingerprint;
}

/** Stores `fingerprint` unless one is stored already; returns the one stored, which two processes starting at once agree on. */
export async function adoptKeyFingerprint(fingerprint: string, db: Queryable): Promise<string> {
  await db.query('INSERT INTO key_fingerprint (fingerprint) VALUES ($1) ON CONFLICT (singleton) DO NOTHING', [fingerprint]);
  return (await findKeyFingerprint(db))!;
}

/** Stores `fingerprint` in place of any other; returns the one it replaced. */
export async function replaceKeyFingerprint(fingerprint: string, db: Queryable): Promise<string | undefined> {
  const { rows } = await db.query<{ previous: string | null }>(
    `WITH previous AS (SELECT fingerprint FROM key_fingerprint)
     INSERT INTO key_fingerprint (fingerprint) VALUES ($1)
     ON CONFLICT (singleton) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, set_at = now()
     RETURNING (SELECT fingerprint FROM previous) AS previous`,
    [fingerprint],
  );
  return rows[0]!.previous ?? undefined;
}

/** Process ids of the other Relance processes connected to this database now. */
export async function otherRelanceProcesses(db: Queryable): Promise<number[]> {
  const { rows } = await db.query<{ pid: string }>(
    `SELECT DISTINCT substr(application_name, length($1) + 1) AS pid FROM pg_stat_activity
     WHERE datname = current_database() AND starts_with(application_name, $1) AND application_name <> $2`,
    [APPLICATION, `${APPLICATION}${process.pid}`],
  );
  return rows.map((row) => Number(row.pid));
}
