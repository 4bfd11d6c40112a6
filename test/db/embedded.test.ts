import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import type { EmbeddedServer } from '../../src/db/embedded.js';
import { assertAnswers, query, start, stop, TIMEOUT, withServer } from '../helpers/embedded.js';
import { holdEmbedded, isRunning, postmastersOf, sandbox, waitFor, within } from '../helpers/processes.js';

const box = sandbox();

const portOf = (url: string) => Number(new URL(url).port);

/** The only postmaster serving `dir`; fails if there is none or several. */
function postmasterOf(dir: string): number {
  const pids = postmastersOf(join(dir, 'pg'));
  assert.equal(pids.length, 1, `expected one PostgreSQL for ${dir}, found ${JSON.stringify(pids)}`);
  return pids[0]!;
}

/** Writes a postmaster.pid as PostgreSQL does, claiming that `pid` serves the cluster. */
async function writeLockFile(dir: string, pid: number, port: number): Promise<void> {
  const pgDir = join(dir, 'pg');
  const lines = [pid, pgDir, Math.floor(Date.now() / 1000), port, '', '127.0.0.1', '  5432001         1', 'ready   '];
  await writeFile(join(pgDir, 'postmaster.pid'), lines.join('\n') + '\n');
}

/** Initialises a cluster in a fresh DATA_DIR and stops it, leaving a stopped cluster behind. */
async function stoppedCluster(): Promise<string> {
  const dir = await box.dataDir();
  await stop(await start(dir));
  return dir;
}

// Each test has its own DATA_DIR, so they may run side by side.
describe('embedded PostgreSQL', { concurrency: 3 }, () => {
  test('the first start initialises a cluster in DATA_DIR/pg and the server answers', TIMEOUT, async () => {
    const dir = await box.dataDir();
    await withServer(dir, async (server) => {
      assert.ok(existsSync(join(dir, 'pg', 'PG_VERSION')), 'the cluster lives in DATA_DIR/pg');
      assert.equal((await stat(join(dir, 'pg-credentials.json'))).mode & 0o777, 0o600, 'the password file is private');
      const url = new URL(server.url);
      assert.equal(url.hostname, '127.0.0.1');
      const [row] = await query<{ db: string; version: number }>(
        server.url,
        "SELECT current_database() AS db, current_setting('server_version_num')::int AS version",
      );
      assert.equal(row!.db, 'relance');
      assert.ok(row!.version >= 150000, 'PostgreSQL 15 or later');
      postmasterOf(dir);
    });
  });

  test('it listens on 127.0.0.1 only, with no Unix socket, and keeps PostgreSQL durability settings', TIMEOUT, async () => {
    await withServer(await box.dataDir(), async (server) => {
      const [row] = await query<Record<string, string>>(
        server.url,
        `SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets,
                current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync,
                current_setting('full_page_writes') AS fpw`,
      );
      assert.deepEqual(row, { listen: '127.0.0.1', sockets: '', fsync: 'on', sync: 'on', fpw: 'on' });
      // Where the machine has another address, the port must not answer on it.
      const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
      if (external) {
        const outcome = await new Promise<string>((resolve) => {
          const socket = connect({ host: external.address, port: portOf(server.url) });
          socket.setTimeout(5_000, () => (socket.destroy(), resolve('timeout')));
          socket.once('connect', () => (socket.destroy(), resolve('connected')));
          socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        });
        assert.notEqual(outcome, 'connected', `the server answers on ${external.address}`);
      }
    });
  });

  test('data survives stop and start; stop ends the server', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const first = await start(dir);
    await query(first.url, 'CREATE TABLE kept (value text)');
    await query(first.url, 'INSERT INTO kept VALUES ($1)', ['still here']);
    const postmaster = postmasterOf(dir);
    await stop(first);
    assert.deepEqual(postmastersOf(join(dir, 'pg')), [], 'no PostgreSQL left running after stop()');
    assert.equal(isRunning(postmaster), false);
    assert.equal(existsSync(join(dir, 'pg-owner.json')), false, 'the owner record is removed');
    assert.equal(existsSync(join(dir, 'pg', 'postmaster.pid')), false, 'a clean shutdown removes the lock file');

    await withServer(dir, async (second) => {
      assert.deepEqual(await query(second.url, 'SELECT value FROM kept'), [{ value: 'still here' }]);
    });
  });

  test('a server left running by a killed process is stopped and started afresh, without a hang', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const { child, url } = await holdEmbedded(box, dir);
    await query(url, 'CREATE TABLE kept (value text)');
    await query(url, 'INSERT INTO kept VALUES ($1)', ['written before the crash']);
    const orphan = postmasterOf(dir);
    child.kill('SIGKILL');
    await child.waitForExit();
    assert.equal(isRunning(orphan), true, 'precondition: the PostgreSQL of the killed process is still running');

    await withServer(dir, async (server) => {
      assert.equal(isRunning(orphan), false, 'the orphaned server was stopped');
      const fresh = postmasterOf(dir);
      assert.notEqual(fresh, orphan);
      assert.deepEqual(await query(server.url, 'SELECT value FROM kept'), [{ value: 'written before the crash' }]);
      const owner = JSON.parse(await readFile(join(dir, 'pg-owner.json'), 'utf8'));
      assert.deepEqual(owner, { pid: process.pid, port: portOf(server.url), role: 'command' });
    });
    assert.deepEqual(postmastersOf(join(dir, 'pg')), []);
  });

  test('a stopped server that nobody reaps (a zombie) does not make the start wait', TIMEOUT, async () => {
    // The orphan's parent is init, and many container inits never reap: once stopped it stays a
    // zombie. A frozen parent reproduces that; no owner record, as after a crash before it is written.
    const dir = await box.dataDir();
    const { child } = await holdEmbedded(box, dir);
    const orphan = postmasterOf(dir);
    await rm(join(dir, 'pg-owner.json'));
    child.kill('SIGSTOP');
    try {
      await withServer(dir, async (server) => {
        assert.notEqual(postmasterOf(dir), orphan);
        assert.equal(isRunning(orphan), false, 'the old server was stopped');
        await assertAnswers(server.url);
      });
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('stop() returns when the server has already died', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const server = await start(dir);
    const postmaster = postmasterOf(dir);
    process.kill(postmaster, 'SIGKILL');
    await waitFor('the server to die', () => (isRunning(postmaster) ? undefined : true));
    await within(server.stop(), 15_000, 'stop() after the server died');
    assert.equal(existsSync(join(dir, 'pg-owner.json')), false);

    await withServer(dir, (again) => assertAnswers(again.url, 'and it starts again after the crash'));
  });

  test('a crashed server whose backend still runs is not started a second time on the same data', TIMEOUT, async () => {
    // Two servers on one data directory corrupt it: PostgreSQL's own check of its old shared memory
    // must stay in force when the lock file names a postmaster that is gone.
    const dir = await box.dataDir();
    const server = await start(dir);
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => {});
    await client.connect();
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const postmaster = postmasterOf(dir);
    process.kill(backend, 'SIGSTOP');
    try {
      process.kill(postmaster, 'SIGKILL');
      await waitFor('the server to die', () => (isRunning(postmaster) ? undefined : true));
      await stop(server);
      await assert.rejects(start(dir), /shared memory block .* is still in use/);
      assert.deepEqual(postmastersOf(join(dir, 'pg')), [], 'no second server runs on the data');
    } finally {
      process.kill(backend, 'SIGKILL');
    }
    await waitFor('the old backend to end', () => (isRunning(backend) ? undefined : true));
    await client.end().catch(() => {});

    await withServer(dir, (again) => assertAnswers(again.url, 'once it is gone, the start succeeds'));
  });

  test('a server held by a live process is reused, and stop() leaves it running', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const { child, url } = await holdEmbedded(box, dir);
    const holder = postmasterOf(dir);

    const server = await start(dir);
    assert.equal(portOf(server.url), portOf(url), 'same server, same port');
    await assertAnswers(server.url);
    assert.equal(postmasterOf(dir), holder, 'no second server was started');
    await stop(server);

    assert.equal(isRunning(holder), true, 'stop() of a reused server does not stop it');
    await assertAnswers(url, 'the holder can still use it');
    const owner = JSON.parse(await readFile(join(dir, 'pg-owner.json'), 'utf8'));
    assert.equal(owner.pid, child.pid, 'the holder still owns it');
  });

  test('a postmaster.pid naming a dead process does not prevent the start', TIMEOUT, async () => {
    const dir = await stoppedCluster();
    const gone = box.spawn(process.execPath, ['-e', ''], { label: 'short-lived process' });
    await gone.waitForExit();
    await writeLockFile(dir, gone.pid, 5432);

    await withServer(dir, async (server) => {
      await assertAnswers(server.url);
      const lock = (await readFile(join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n');
      assert.equal(Number(lock[0]), postmasterOf(dir), 'the lock file now names the new server');
    });
  });

  test('a postmaster.pid naming a live process that is not PostgreSQL neither blocks the start nor harms it', TIMEOUT, async () => {
    const dir = await stoppedCluster();
    const bystander = box.spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { label: 'bystander' });
    await writeLockFile(dir, bystander.pid, 5432);

    await withServer(dir, async (server) => {
      await assertAnswers(server.url);
      assert.equal(bystander.exit, undefined, 'the unrelated process was not signalled');
      assert.equal(isRunning(bystander.pid), true);
    });
  });

  test('a postmaster.pid naming the server of another cluster does not get that server stopped', TIMEOUT, async () => {
    // After a reboot, the PID in a stale lock file may belong to another PostgreSQL.
    const other = await box.dataDir();
    await withServer(other, async (otherServer) => {
      const dir = await stoppedCluster();
      const otherPostmaster = postmasterOf(other);
      await writeLockFile(dir, otherPostmaster, portOf(otherServer.url));

      await withServer(dir, async (server) => {
        assert.notEqual(postmasterOf(dir), otherPostmaster);
        await assertAnswers(server.url);
      });
      assert.equal(isRunning(otherPostmaster), true, 'the other cluster is still running');
      await assertAnswers(otherServer.url);
    });
  });
});
