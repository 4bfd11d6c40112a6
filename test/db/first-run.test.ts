import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import type { EmbeddedServer } from '../../src/db/embedded.js';
import { query, start, stop, TIMEOUT, withServer } from '../helpers/embedded.js';
import { postmastersOf, sandbox, within } from '../helpers/processes.js';
import { startServe, stdoutObjects, waitForListening } from '../helpers/relance-cli.js';

const box = sandbox();

function databaseUrl(url: string, database: string): string {
  const other = new URL(url);
  other.pathname = `/${database}`;
  return other.toString();
}

async function passwordOf(dir: string): Promise<string> {
  return (JSON.parse(await readFile(join(dir, 'pg-credentials.json'), 'utf8')) as { password: string }).password;
}

/** The files of the system's temporary directory that hold this DATA_DIR's PostgreSQL password. */
async function leakedPasswordFiles(dir: string): Promise<string[]> {
  const password = await passwordOf(dir);
  const leaked: string[] = [];
  for (const entry of await readdir(tmpdir())) {
    if (!entry.startsWith('pg-password-')) continue;
    const content = await readFile(join(tmpdir(), entry), 'utf8').catch(() => '');
    if (content === `${password}\n`) leaked.push(entry);
  }
  return leaked;
}

const initFolders = async (dir: string) => (await readdir(dir)).filter((entry) => entry.startsWith('pg.init-'));

// What `docker stop`, systemd or the OOM killer do to a first `npm start`: kill Node and its
// initdb (or PostgreSQL) together. Measured from the moment the initialisation begins, these
// moments fall inside initdb (about 0.5 to 1 s here) and, for the last, in what follows it: the
// rename into place, the first server start, CREATE DATABASE, migrations, the key.
describe('a first start killed with its whole process group', () => {
  for (const delay of [0, 50, 200, 400, 800, 1200]) {
    test(`${delay} ms into the initialisation: the next start completes it and serves`, TIMEOUT, async () => {
      const dir = await box.dataDir();
      const first = startServe(box, dir);
      await first.waitFor('the initialisation to begin', () =>
        stdoutObjects(first).some((o) => o.msg === 'initialising the embedded PostgreSQL cluster') ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      first.killGroup('SIGKILL');
      await first.waitForExit();

      const second = startServe(box, dir);
      const baseUrl = await waitForListening(second);
      const ready = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(ready.status, 200, second.describe());
      second.kill('SIGTERM');
      assert.deepEqual(await second.waitForExit(45_000), { code: 0, signal: null }, second.describe());

      assert.deepEqual(await initFolders(dir), [], 'no temporary folder is left');
      assert.deepEqual(await leakedPasswordFiles(dir), [], 'no password file is left in the temporary directory');
    });
  }
});

describe('what an interrupted first run leaves behind', { concurrency: 2 }, () => {
  test('a pg folder that initdb of an older version left half-made is initialised afresh', TIMEOUT, async () => {
    // What initdb writes before global/pg_control: PostgreSQL cannot start there, so it never held data.
    const dir = await box.dataDir();
    const pgDir = join(dir, 'pg');
    for (const sub of ['base/1', 'global', 'pg_wal', 'pg_xact']) await mkdir(join(pgDir, sub), { recursive: true });
    await writeFile(join(pgDir, 'PG_VERSION'), '17\n');
    await writeFile(join(pgDir, 'postgresql.conf'), '');

    await withServer(dir, async (server) => {
      assert.deepEqual(await query(server.url, 'SELECT current_database() AS db'), [{ db: 'relance' }]);
      assert.ok(existsSync(join(pgDir, 'global', 'pg_control')));
    });
  });

  test('a pg folder holding anything else is refused with the same message as before, and kept', TIMEOUT, async () => {
    const unknown = await box.dataDir();
    await mkdir(join(unknown, 'pg'));
    await writeFile(join(unknown, 'pg', 'notes.txt'), 'mine');
    const message = (dir: string) => `${join(dir, 'pg')} exists but holds no PostgreSQL cluster; move it away and start again`;
    await assert.rejects(start(unknown), { message: message(unknown) });
    assert.equal(await readFile(join(unknown, 'pg', 'notes.txt'), 'utf8'), 'mine');

    // A cluster that once ran (it has postmaster.opts) and lost its pg_control holds data.
    const damaged = await box.dataDir();
    const server = await start(damaged);
    await query(server.url, 'CREATE TABLE kept (value text)');
    await stop(server);
    await rm(join(damaged, 'pg', 'global', 'pg_control'));
    const before = await readdir(join(damaged, 'pg', 'base'));
    await assert.rejects(start(damaged), { message: message(damaged) });
    assert.deepEqual(await readdir(join(damaged, 'pg', 'base')), before, 'its data files are all there');
  });

  test('temporary folders of dead processes are removed with the password file they leaked; a live one is kept', TIMEOUT, async () => {
    const dir = await box.dataDir();
    await stop(await start(dir));
    const gone = box.spawn(process.execPath, ['-e', ''], { label: 'short-lived process' });
    await gone.waitForExit();
    const bystander = box.spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { label: 'bystander' });
    const abandoned = join(dir, `pg.init-${gone.pid}-0123abcd`);
    await mkdir(join(abandoned, 'base'), { recursive: true });
    await writeFile(join(abandoned, 'PG_VERSION'), '17\n');
    const leaked = join(tmpdir(), `pg-password-relance-test-${gone.pid}`);
    await writeFile(leaked, `${await passwordOf(dir)}\n`);

    let server = await start(dir);
    await stop(server);
    assert.deepEqual(await initFolders(dir), []);
    assert.equal(existsSync(leaked), false, 'the leaked password file is removed');

    const live = `pg.init-${bystander.pid}-4567cdef`;
    await mkdir(join(dir, live));
    server = await start(dir);
    await stop(server);
    assert.deepEqual(await initFolders(dir), [live], 'the folder of a live process is not touched');
  });

  test('a complete cluster without the relance database (a kill before CREATE DATABASE) gets it', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const server = await start(dir);
    await query(databaseUrl(server.url, 'postgres'), 'DROP DATABASE relance');
    await stop(server);

    await withServer(dir, async (again) => {
      assert.deepEqual(await query(again.url, 'SELECT current_database() AS db'), [{ db: 'relance' }]);
    });
  });

  test('a cluster without the postgres database (initdb of an older version killed late) is a one-line refusal, and kept', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const server = await start(dir);
    await query(server.url, 'CREATE TABLE kept (value text)');
    await query(server.url, 'DROP DATABASE postgres');
    await stop(server);

    await assert.rejects(start(dir), (error: Error) => {
      assert.equal(
        error.message,
        `${join(dir, 'pg')} holds a PostgreSQL cluster whose initialisation was interrupted (it has no "postgres" database); ` +
          'if it holds nothing you need, move it away and start again',
      );
      return true;
    });
    assert.deepEqual(postmastersOf(join(dir, 'pg')), [], 'the server started to look is stopped');
    assert.equal(existsSync(join(dir, 'pg-owner.json')), false);
    assert.ok(existsSync(join(dir, 'pg', 'global', 'pg_control')), 'the cluster is left as it was');
  });
});
