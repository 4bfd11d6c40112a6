import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys, loadMasterKey } from '../../src/security/keys.js';
import { postmastersOf, REPO_ROOT, sandbox, waitFor } from '../helpers/processes.js';
import {
  heldDataDir, printedObject, runCli, startServe, stdoutObjects, tokenFor, waitForDemo, waitForListening, type CliResult,
} from '../helpers/relance-cli.js';

const box = sandbox();
const TIMEOUT = { timeout: 120_000 };
const ID = /^[A-Za-z0-9_-]{22}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/;

/** A failed command: the given exit code, its message on stderr, nothing on stdout. */
function assertFails(result: CliResult, message: RegExp, code = 2): void {
  assert.equal(result.stdout, '', 'nothing on stdout');
  assert.equal(result.code, code, `exit code ${code} expected\n${result.stderr}`);
  assert.match(result.stderr, message);
}

/** The embedded server is started for the command and stopped after it. */
function assertStopped(dir: string): void {
  assert.deepEqual(postmastersOf(join(dir, 'pg')), [], 'no PostgreSQL left running');
  assert.equal(existsSync(join(dir, 'pg-owner.json')), false, 'no owner record left behind');
}

// Each test has its own DATA_DIR, so they may run side by side.
describe('commands start the embedded server for themselves and stop it after', { concurrency: true }, () => {
  test('migrate applies every migration once and prints {"migrated": [...]}', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const expected = (await readdir(join(REPO_ROOT, 'src/db/migrations')))
      .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
      .sort()
      .map((file) => file.replace(/\.sql$/, ''));
    assert.ok(expected.length > 0);

    assert.deepEqual(printedObject(await runCli(box, dir, ['migrate'])), { migrated: expected });
    assertStopped(dir);
    assert.deepEqual(printedObject(await runCli(box, dir, ['migrate'])), { migrated: [] });
    assertStopped(dir);
  });

  test('company create --name prints {id, name}', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const acme = printedObject(await runCli(box, dir, ['company', 'create', '--name', 'Acme']));
    assert.deepEqual(Object.keys(acme), ['id', 'name']);
    assert.match(acme.id, ID);
    assert.equal(acme.name, 'Acme');
    assertStopped(dir);
    const other = printedObject(await runCli(box, dir, ['company', 'create', '--name', '  Globex  ']));
    assert.equal(other.name, 'Globex');
    assert.notEqual(other.id, acme.id, 'each company gets its own id');
  });

  test('a failing command stops the server too', TIMEOUT, async () => {
    const dir = await box.dataDir();
    assertFails(await runCli(box, dir, ['company', 'create']), /--name is required/);
    assertStopped(dir);
  });
});

// While `relance serve` runs, commands reuse its server (SPEC §12); a holder process stands in
// for it, so these tests can run side by side on one DATA_DIR.
describe('commands while another process holds the embedded server', { concurrency: 4 }, () => {
  let dir: string;
  let companyId: string;

  before(async () => {
    ({ dir, companyId } = await heldDataDir(box, 'Shared company'));
  });

  test('client create prints the client id, its secret and its scopes', TIMEOUT, async () => {
    const client = printedObject(
      await runCli(box, dir, ['client', 'create', '--company', companyId, '--scopes', 'followups:read followups:write', '--name', 'dialer']),
    );
    assert.deepEqual(Object.keys(client), ['client_id', 'client_secret', 'scopes']);
    assert.match(client.client_id, /^rlc_[0-9a-f]{24}$/);
    assert.match(client.client_secret, /^rls_[A-Za-z0-9_-]{43,}$/, 'a prefixed secret of at least 256 bits');
    assert.deepEqual(client.scopes, ['followups:read', 'followups:write']);
  });

  test('debt create prints the debt object', TIMEOUT, async () => {
    const debt = printedObject(
      await runCli(box, dir, [
        'debt', 'create', '--company', companyId, '--firstname', 'Jane', '--lastname', 'Doe', '--amount', '1250.50',
        '--currency', 'eur', '--email', 'jane.doe@example.com', '--phone', '+33612345678',
      ]),
    );
    assert.match(debt.id, ID);
    assert.match(debt.import_date, TIMESTAMP);
    assert.match(debt.status, /pending/);
    assert.deepEqual(
      { firstname: debt.firstname, lastname: debt.lastname, phone: debt.phone, email: debt.email, amount: debt.amount, currency: debt.currency },
      { firstname: 'Jane', lastname: 'Doe', phone: '+33612345678', email: 'jane.doe@example.com', amount: 1250.5, currency: 'EUR' },
    );
  });

  test('an unknown command fails with a usage message', TIMEOUT, async () => {
    assertFails(await runCli(box, dir, ['frobnicate']), /unknown command "frobnicate"[\s\S]*Usage: relance/);
    assertFails(await runCli(box, dir, ['company', 'delete', '--name', 'Acme']), /unknown command "company delete"/);
  });

  test('an unknown option fails with a usage message', TIMEOUT, async () => {
    assertFails(await runCli(box, dir, ['company', 'create', '--name', 'Acme', '--colour', 'red']), /--colour[\s\S]*Usage: relance/);
  });

  test('company create with a blank --name fails', TIMEOUT, async () => {
    assertFails(await runCli(box, dir, ['company', 'create', '--name', '   ']), /--name must be 1 to 200 characters/);
  });

  test('--company must be a company ID of this installation', TIMEOUT, async () => {
    const scopes = ['--scopes', 'followups:read'];
    assertFails(await runCli(box, dir, ['client', 'create', '--company', 'not-an-id', ...scopes]), /--company must be a company ID/);
    const debt = printedObject(
      await runCli(box, dir, ['debt', 'create', '--company', companyId, '--firstname', 'A', '--lastname', 'B', '--amount', '1', '--currency', 'EUR', '--email', 'a@b.co']),
    );
    assertFails(await runCli(box, dir, ['client', 'create', '--company', debt.id, ...scopes]), /--company must be a company ID/, 2);
  });

  test('--company naming no company fails for client and debt create', TIMEOUT, async () => {
    const ids = new IdCodec(deriveKeys(await loadMasterKey(undefined, dir)).ids);
    const missing = ids.encode('company', 2 ** 40);
    assertFails(await runCli(box, dir, ['client', 'create', '--company', missing, '--scopes', 'followups:read']), /--company: no such company/);
    assertFails(
      await runCli(box, dir, ['debt', 'create', '--company', missing, '--firstname', 'A', '--lastname', 'B', '--amount', '1', '--currency', 'EUR', '--email', 'a@b.co']),
      /--company: no such company/,
    );
  });

  test('client create with an unknown scope fails and names it', TIMEOUT, async () => {
    assertFails(
      await runCli(box, dir, ['client', 'create', '--company', companyId, '--scopes', 'followups:read followups:delete']),
      /Unknown scope\(s\): followups:delete/,
    );
  });

  test('debt create reports every invalid field at once', TIMEOUT, async () => {
    const result = await runCli(box, dir, ['debt', 'create', '--company', companyId, '--amount', 'zero', '--currency', 'euros']);
    assertFails(result, /firstname/);
    for (const field of ['lastname', 'phone', 'amount', 'currency']) {
      assert.ok(result.stderr.includes(field), `stderr names ${field}: ${result.stderr}`);
    }
  });
});

describe('relance serve', () => {
  test('prints the demo credentials and a curl example that works as printed; SIGTERM stops it cleanly', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const serve = startServe(box, dir);
    const demo = await waitForDemo(serve, dir);
    const baseUrl = await waitForListening(serve);
    assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(baseUrl).port, '0', 'PORT=0 prints the port actually bound');
    assert.deepEqual(Object.keys(demo), ['company_id', 'client_id', 'client_secret', 'scopes', 'debt_id']);
    assert.equal((await stat(join(dir, 'demo-credentials.json'))).mode & 0o777, 0o600, 'the credentials file is for its owner only');
    assert.ok(serve.stderr.includes(`client_secret  ${demo.client_secret}`), 'the secret is shown on stderr');
    assert.ok(!serve.stdout.includes(demo.client_secret), 'never in the JSON log stream on stdout');

    const curl = await serve.waitFor('the curl example on stderr', () => /Try it:\n\n([\s\S]+?)\n\n/.exec(serve.stderr)?.[1]);
    assert.ok(serve.stderr.includes(`Relance is running on ${baseUrl}`));
    assert.ok(curl.includes(baseUrl), 'the example uses the address actually bound');

    const run = box.spawn('bash', ['-c', curl], { label: 'the printed curl example' });
    const exit = await run.waitForExit();
    assert.equal(exit.code, 0, run.describe());
    const created = JSON.parse(run.stdout);
    assert.equal(created.error, false, run.stdout);
    assert.equal(created.message, 'Followup created successfully', 'the 201 response of a create');
    assert.equal(created.data.debt_id, demo.debt_id);
    assert.equal(created.data.status, 'scheduled');

    const token = await tokenFor(baseUrl, demo.client_id, demo.client_secret);
    const fetched = await fetch(`${baseUrl}/external-api/v1/followups/${created.data.id}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(fetched.status, 200);
    assert.equal(((await fetched.json()) as any).data.summary, 'Follow-up call to discuss payment plan');

    // A command run while serve holds the embedded server reuses it and leaves it running.
    const reader = printedObject(await runCli(box, dir, ['client', 'create', '--company', demo.company_id, '--scopes', 'followups:read']));
    const ready = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(ready.status, 200, 'serve still has its database after the command');
    const readerToken = await tokenFor(baseUrl, reader.client_id, reader.client_secret);
    const read = await fetch(`${baseUrl}/external-api/v1/followups/${created.data.id}`, {
      headers: { authorization: `Bearer ${readerToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(read.status, 200, 'a client created by the CLI works against the running server');

    // A key reset while serve runs would leave serve on the old key: refused.
    const reset = await runCli(box, dir, ['key', 'reset']);
    assert.equal(reset.code, 1, reset.stderr);
    assert.match(reset.stderr, /^relance: Relance processes are running on this database \(pid \d+\): stop them before `relance key reset`/);

    // Disabled from another process, the client's live token stops working at once.
    assert.deepEqual(printedObject(await runCli(box, dir, ['client', 'disable', '--client', reader.client_id])), { client_id: reader.client_id, disabled: true });
    const refused = await waitFor('the disabled client\'s token to be refused', async () => {
      const response = await fetch(`${baseUrl}/external-api/v1/followups/${created.data.id}`, {
        headers: { authorization: `Bearer ${readerToken}` },
        signal: AbortSignal.timeout(10_000),
      });
      return response.status === 401 ? response.status : undefined;
    }, 5_000);
    assert.equal(refused, 401);

    serve.kill('SIGTERM');
    const stopped = await serve.waitForExit(45_000);
    assert.deepEqual(stopped, { code: 0, signal: null }, serve.describe());
    assertStopped(dir);
    stdoutObjects(serve);
  });
});
