/**
 * What an operator meets at the command line: the client lifecycle commands, usage errors that
 * exit non-zero, and start failures (port taken, database unreachable or unknown) told in one
 * line with what to do, never a stack.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { before, describe, test } from 'node:test';
import { postmastersOf, relanceEnv, sandbox, waitFor } from '../helpers/processes.js';
import { heldDataDir, printedObject, runCli, type CliResult } from '../helpers/relance-cli.js';
import { join } from 'node:path';

const box = sandbox();
const TIMEOUT = { timeout: 120_000 };

function assertFails(result: CliResult, message: RegExp, code: number): void {
  assert.equal(result.stdout, '', 'nothing on stdout');
  assert.equal(result.code, code, `exit code ${code} expected\n${result.stderr}`);
  assert.match(result.stderr, message);
}

/** One line, "relance: …", with no stack trace. */
function assertOneLine(result: CliResult, message: RegExp): void {
  assertFails(result, message, 1);
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
}

describe('client lifecycle commands', { concurrency: 3 }, () => {
  let dir: string;
  let companyId: string;

  before(async () => {
    ({ dir, companyId } = await heldDataDir(box, 'Operated'));
  });

  const create = async (scopes = 'followups:read') =>
    printedObject(await runCli(box, dir, ['client', 'create', '--company', companyId, '--scopes', scopes, '--name', 'dialer']));

  test('client list shows the company\'s clients, never their secrets', TIMEOUT, async () => {
    const first = await create();
    const listed = printedObject(await runCli(box, dir, ['client', 'list', '--company', companyId]));
    const entry = listed.clients.find((c: { client_id: string }) => c.client_id === first.client_id);
    assert.deepEqual(Object.keys(entry), ['client_id', 'name', 'scopes', 'disabled', 'read_limit', 'write_limit', 'created_at']);
    assert.deepEqual({ ...entry, created_at: undefined }, {
      client_id: first.client_id, name: 'dialer', scopes: ['followups:read'], disabled: false, read_limit: null, write_limit: null, created_at: undefined,
    });
    assert.ok(!JSON.stringify(listed).includes(first.client_secret));
  });

  test('client disable and enable print the new state', TIMEOUT, async () => {
    const client = await create();
    assert.deepEqual(printedObject(await runCli(box, dir, ['client', 'disable', '--client', client.client_id])), { client_id: client.client_id, disabled: true });
    const listed = printedObject(await runCli(box, dir, ['client', 'list', '--company', companyId]));
    assert.equal(listed.clients.find((c: { client_id: string }) => c.client_id === client.client_id).disabled, true);
    assert.deepEqual(printedObject(await runCli(box, dir, ['client', 'enable', '--client', client.client_id])), { client_id: client.client_id, disabled: false });
  });

  test('client rotate-secret prints a new secret once; client update replaces the scopes', TIMEOUT, async () => {
    const client = await create();
    const rotated = printedObject(await runCli(box, dir, ['client', 'rotate-secret', '--client', client.client_id]));
    assert.deepEqual(Object.keys(rotated), ['client_id', 'client_secret']);
    assert.match(rotated.client_secret, /^rls_[A-Za-z0-9_-]{43,}$/);
    assert.notEqual(rotated.client_secret, client.client_secret);
    const updated = printedObject(await runCli(box, dir, ['client', 'update', '--client', client.client_id, '--scopes', 'debts:read followups:read']));
    assert.deepEqual(updated, { client_id: client.client_id, scopes: ['debts:read', 'followups:read'], read_limit: null, write_limit: null });
    assertFails(await runCli(box, dir, ['client', 'update', '--client', client.client_id, '--scopes', 'debts:delete']), /Unknown scope\(s\): debts:delete/, 2);
  });

  test('an unknown or missing --client is a usage error', TIMEOUT, async () => {
    for (const command of ['disable', 'enable', 'rotate-secret']) {
      assertFails(await runCli(box, dir, ['client', command, '--client', 'rlc_nobody']), /--client: no such client/, 2);
    }
    assertFails(await runCli(box, dir, ['client', 'disable']), /--client is required/, 2);
  });
});

describe('npm start', () => {
  test('SIGTERM to `npm start` (what systemd or docker stop send) stops Relance and its PostgreSQL', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const npm = box.spawn('npm', ['start'], { env: relanceEnv(dir, { PORT: '0', LOG_LEVEL: 'info' }), detached: true, label: 'npm start' });
    await npm.waitFor('the server to listen', () => npm.stdoutLines.find((line) => line.includes('Server listening at')));
    assert.equal(postmastersOf(join(dir, 'pg')).length, 1);
    npm.kill('SIGTERM');
    await npm.waitForExit();
    // npm's own child must have been the server itself, not a shell that dies and orphans it.
    await waitFor('PostgreSQL to stop', () => (postmastersOf(join(dir, 'pg')).length === 0 ? true : undefined), 30_000);
    assert.match(npm.stdout, /shutting down: finishing in-flight requests/);
  });
});

describe('usage and start failures', { concurrency: 3 }, () => {
  test('no command at all prints the usage and exits 2; --help exits 0', TIMEOUT, async () => {
    const dir = await box.dataDir();
    assertFails(await runCli(box, dir, []), /Usage: relance/, 2);
    const help = await runCli(box, dir, ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /client rotate-secret --client C/);
    assert.equal(help.stderr, '');
  });

  test('serve on a port already in use: one line, found before the database is started', TIMEOUT, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const dir = await box.dataDir();
      const result = await runCli(box, dir, ['serve'], { PORT: String(port) });
      assertOneLine(result, new RegExp(`^relance: 127\\.0\\.0\\.1:${port} is already in use: stop the program using it, or set PORT to another port\\n$`));
      assert.deepEqual(postmastersOf(join(dir, 'pg')), [], 'no PostgreSQL was started');
    } finally {
      taken.close();
    }
  });

  test('a database that refuses connections or the password, or whose host does not exist: one line saying so', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const key = { RELANCE_SECRET_KEY: 'a'.repeat(64) };
    assertOneLine(
      await runCli(box, dir, ['migrate'], { ...key, DATABASE_URL: 'postgres://relance:x@127.0.0.1:1/relance' }),
      /^relance: cannot reach the database at 127\.0\.0\.1:1 \(connection refused\): is PostgreSQL running there, and is DATABASE_URL right\?\n$/,
    );
    const wrongPassword = new URL(process.env.TEST_DATABASE_URL!);
    wrongPassword.password = 'not-the-password';
    assertOneLine(
      await runCli(box, dir, ['migrate'], { ...key, DATABASE_URL: wrongPassword.toString() }),
      /^relance: the database refused the credentials \(password authentication failed for user "[^"]+"\): check the user and password in DATABASE_URL\n$/,
    );
    assertOneLine(
      await runCli(box, dir, ['serve'], { ...key, DATABASE_URL: 'postgres://relance:x@no-such-host.invalid/relance' }),
      /^relance: unknown database host "no-such-host\.invalid": check the host name in DATABASE_URL\n$/,
    );
  });
});
