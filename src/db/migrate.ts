import { Logger, runMigrations } from 'graphile-worker';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Pool } from './pool.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Arbitrary constant: serialises migrators when several processes start at once.
const LOCK_ID = 7_305_221_001;

/**
 * Applies the numbered SQL files not yet applied, each in its own transaction, then
 * graphile-worker's own migrations (its `graphile_worker` schema holds the background jobs).
 * Returns the names of Relance's files applied.
 */
export async function migrate(pool: Pool): Promise<string[]> {
  const migrated = await migrateRelance(pool);
  await runMigrations({ pgPool: pool, logger: QUIET });
  return migrated;
}

// graphile-worker logs each of its migrations at info level; Relance reports its own.
const QUIET = new Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`graphile-worker: ${message}\n`);
});

async function migrateRelance(pool: Pool): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  const client = await pool.connect();
  try {
    // Waiting for another process's migrations, or one long data migration, may take longer
    // than any request should: no statement timeout for this session (reset before release).
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.name));
    const migrated: string[] = [];
    for (const file of files) {
      const name = file.replace(/\.sql$/, '');
      if (applied.has(name)) continue;
      const sql = await readFile(MIGRATIONS_DIR + file, 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${file} failed: ${(error as Error).message}`);
      }
      migrated.push(name);
    }
    return migrated;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => {});
    await client.query('RESET statement_timeout').catch(() => {});
    client.release();
  }
}
