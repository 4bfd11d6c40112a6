import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { postmastersOf, sandbox } from '../helpers/processes.js';
import { printedObject, runCli, startServe, stdoutObjects, tokenFor, waitForListening } from '../helpers/relance-cli.js';

const box = sandbox();
const TIMEOUT = { timeout: 120_000 };

async function readyStatus(baseUrl: string): Promise<number> {
  return (await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(10_000) })).status;
}

describe('one embedded DATA_DIR, one serve', { concurrency: 2 }, () => {
  test('a second serve is refused with a one-line message; the first keeps serving, commands still share it', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const first = startServe(box, dir);
    const baseUrl = await waitForListening(first);
    const [postmaster] = postmastersOf(join(dir, 'pg'));

    const second = startServe(box, dir);
    const exit = await second.waitForExit();
    assert.equal(exit.code, 1, second.describe());
    assert.equal(
      second.stderr,
      `relance: DATA_DIR ${dir} is in use by another relance serve (pid ${first.pid}), which runs its embedded PostgreSQL: ` +
        'stop that server first, or start this one with another DATA_DIR\n',
    );
    assert.equal(stdoutObjects(second).some((o) => typeof o.msg === 'string' && o.msg.startsWith('Server listening')), false);

    assert.deepEqual(postmastersOf(join(dir, 'pg')), [postmaster], 'the first server’s PostgreSQL is the only one, still running');
    assert.equal(await readyStatus(baseUrl), 200);
    const company = printedObject(await runCli(box, dir, ['company', 'create', '--name', 'While serving']));
    const client = printedObject(await runCli(box, dir, ['client', 'create', '--company', company.id, '--scopes', 'followups:read']));
    await tokenFor(baseUrl, client.client_id, client.client_secret);
    assert.equal(await readyStatus(baseUrl), 200, 'the commands left the server running');

    first.kill('SIGTERM');
    assert.deepEqual(await first.waitForExit(45_000), { code: 0, signal: null }, first.describe());
  });

  test('a serve started while a command holds the server waits for it, then runs its own', TIMEOUT, async () => {
    const dir = await box.dataDir();
    const holder = box.node(['test/fixtures/hold-embedded.ts', dir, 'command'], process.env, { label: 'hold-embedded as a command' });
    await holder.waitFor('the command to start its server', () => (holder.stdoutLines.some((l) => l.startsWith('{')) ? true : undefined));
    const [commandPostmaster] = postmastersOf(join(dir, 'pg'));

    const serve = startServe(box, dir);
    await serve.waitFor('serve to wait for the command', () =>
      stdoutObjects(serve).some((o) => o.msg === 'waiting for a relance command to finish with the embedded PostgreSQL') ? true : undefined,
    );
    holder.kill('SIGTERM');
    await holder.waitForExit();

    const baseUrl = await waitForListening(serve);
    assert.equal(await readyStatus(baseUrl), 200);
    const postmasters = postmastersOf(join(dir, 'pg'));
    assert.equal(postmasters.length, 1);
    assert.notEqual(postmasters[0], commandPostmaster, 'serve runs a server of its own, not the one that went with the command');
    const owner = JSON.parse(await readFile(join(dir, 'pg-owner.json'), 'utf8'));
    assert.deepEqual({ pid: owner.pid, role: owner.role }, { pid: serve.pid, role: 'serve' });

    serve.kill('SIGTERM');
    assert.deepEqual(await serve.waitForExit(45_000), { code: 0, signal: null }, serve.describe());
  });
});
