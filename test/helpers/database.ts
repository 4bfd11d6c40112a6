import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';

/**
 * A new, empty database on the test server (CREATE DATABASE on TEST_DATABASE_URL's server),
 * dropped after the file's tests: for tests that need a database of their own (its settings, or
 * a process of its own migrating it). `setup` runs on it before anything else.
 */
export async function freshDatabase(setup: (admin: pg.Client, name: string) => Promise<void> = async () => {}): Promise<string> {
  const base = process.env.TEST_DATABASE_URL!;
  const name = `relance_own_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await setup(admin, name);
  after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}
