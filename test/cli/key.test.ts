import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deriveKeys, shortFingerprint } from '../../src/security/keys.js';
import { sandbox } from '../helpers/processes.js';
import { printedObject, runCli, startServe, type CliResult } from '../helpers/relance-cli.js';

const box = sandbox();
// Each command is a process of its own that starts the embedded server and migrates: slow on a loaded machine.
const TIMEOUT = { timeout: 300_000 };

const fingerprintOf = (hexKey: string) => shortFingerprint(deriveKeys(Buffer.from(hexKey.trim(), 'hex')).fingerprint.toString('hex'));

function recovery(dir: string, replacement: string): string {
  return (
    `  To recover, start with the key this database was set up with: restore ${join(dir, 'secret.key')} from a backup, ` +
    'or set RELANCE_SECRET_KEY to it.\n' +
    `  If that key is lost for good, \`relance key reset\` makes ${replacement} this database's key; every client ` +
    'secret, access token and ID given out until then stops working.\n'
  );
}

const missingKey = (dir: string, stored: string) =>
  `relance: ${join(dir, 'secret.key')} is missing, but this database was set up with a key (fingerprint ${stored}), ` +
  `so no new one is generated.\n${recovery(dir, 'a new key')}`;

const otherKey = (dir: string, current: string, source: string, stored: string) =>
  `relance: The secret key in use (fingerprint ${current}, from ${source}) is not the key this database was set up ` +
  `with (fingerprint ${stored}).\n${recovery(dir, 'the key in use')}`;

/** A refused start: exit code 1, nothing on stdout, exactly `message` on stderr. */
function assertRefused(result: CliResult, message: string): void {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, message);
}

describe('the database keeps the fingerprint of its key', { concurrency: 2 }, () => {
  test('a lost secret.key is not made anew over a database with data: commands and serve refuse, a restored key or key reset recovers', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const keyFile = join(dir, 'secret.key');
    const company = printedObject(await runCli(box, dir, ['company', 'create', '--name', 'Acme']));
    printedObject(await runCli(box, dir, ['client', 'create', '--company', company.id, '--scopes', 'followups:read']));
    const original = await readFile(keyFile, 'utf8');
    const stored = fingerprintOf(original);
    assert.deepEqual(printedObject(await runCli(box, dir, ['migrate'])), { migrated: [] }, 'a normal restart starts');

    await rm(keyFile);
    assertRefused(await runCli(box, dir, ['company', 'create', '--name', 'Globex']), missingKey(dir, stored));
    assert.equal(existsSync(keyFile), false, 'no new key was generated');
    const serve = startServe(box, dir);
    const exit = await serve.waitForExit();
    assert.equal(exit.code, 1, serve.describe());
    assert.equal(serve.stderr, missingKey(dir, stored));
    assert.equal(existsSync(keyFile), false, 'serve did not generate one either');

    await writeFile(keyFile, original, { mode: 0o600 });
    const again = printedObject(await runCli(box, dir, ['company', 'create', '--name', 'Globex']));
    assert.equal(again.name, 'Globex', 'the restored key is accepted');

    await rm(keyFile);
    const reset = printedObject(await runCli(box, dir, ['key', 'reset']));
    const fresh = await readFile(keyFile, 'utf8');
    assert.notEqual(fresh, original);
    assert.deepEqual(reset, { fingerprint: fingerprintOf(fresh), previous: stored });
    assert.deepEqual(printedObject(await runCli(box, dir, ['migrate'])), { migrated: [] }, 'the new key is now the database’s');
    const stale = await runCli(box, dir, ['client', 'create', '--company', company.id, '--scopes', 'followups:read']);
    assert.equal(stale.code, 2, 'as the message said, IDs given out under the lost key no longer work');
    assert.match(stale.stderr, /--company must be a company ID/);
  });

  test('another RELANCE_SECRET_KEY is refused, naming both fingerprints; key reset adopts it', TIMEOUT, async () => {
    const dir = await box.dataDir();
    printedObject(await runCli(box, dir, ['company', 'create', '--name', 'Acme']));
    const fileKey = await readFile(join(dir, 'secret.key'), 'utf8');
    const other = randomBytes(32).toString('hex');

    const refused = await runCli(box, dir, ['company', 'create', '--name', 'Globex'], { RELANCE_SECRET_KEY: other });
    assertRefused(refused, otherKey(dir, fingerprintOf(other), 'RELANCE_SECRET_KEY', fingerprintOf(fileKey)));
    assert.ok(!refused.stderr.includes(other) && !refused.stderr.includes(fileKey.trim()), 'no key is shown');

    const reset = printedObject(await runCli(box, dir, ['key', 'reset'], { RELANCE_SECRET_KEY: other }));
    assert.deepEqual(reset, { fingerprint: fingerprintOf(other), previous: fingerprintOf(fileKey) });
    assert.equal(printedObject(await runCli(box, dir, ['company', 'create', '--name', 'Globex'], { RELANCE_SECRET_KEY: other })).name, 'Globex');
    assertRefused(
      await runCli(box, dir, ['migrate']),
      otherKey(dir, fingerprintOf(fileKey), join(dir, 'secret.key'), fingerprintOf(other)),
    );
  });
});
