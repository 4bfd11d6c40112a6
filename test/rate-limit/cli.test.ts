/**
 * `relance client update --read-limit N --write-limit N` (or `default`): each of --scopes,
 * --read-limit and --write-limit is optional, one is required; bad values are usage errors
 * naming the flag; a running app applies the new budget within moments.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { decodeKey } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool } from '../../src/db/pool.js';
import { deriveKeys } from '../../src/security/keys.js';
import { freshDatabase } from '../helpers/database.js';
import { sandbox, waitFor } from '../helpers/processes.js';
import { API_DEFAULTS, budget } from '../helpers/rate-limits.js';
import { printedObject, runCli, type CliResult } from '../helpers/relance-cli.js';
import { API } from '../helpers/setup.js';
import { testStore } from '../helpers/storage.js';

const box = sandbox();
const SECRET_KEY = randomBytes(32).toString('hex');
const DATABASE_URL = await freshDatabase();
const env = { DATABASE_URL, RELANCE_SECRET_KEY: SECRET_KEY };
const dir = await box.dataDir();
const cli = (...args: string[]) => runCli(box, dir, args, env);
// Each command is a process of its own, migrating first: slow on a loaded machine.
const TIMEOUT = { timeout: 300_000 };

// An app on the same database and key, which would keep a client's state a minute.
const keys = deriveKeys(decodeKey(SECRET_KEY)!);
const pool = createPool(DATABASE_URL, 2);
await migrate(pool);
const app = await buildApp({ pool, keys, logger: pino({ level: 'silent' }), storage: await testStore(keys), clientStateTtlMs: 60_000, rateLimits: API_DEFAULTS });
after(async () => {
  await app.close();
  await pool.end();
});

const company = printedObject(await cli('company', 'create', '--name', 'Budgets')).id as string;

async function newClient(): Promise<{ id: string; bearer: string }> {
  const client = printedObject(await cli('client', 'create', '--company', company, '--scopes', 'followups:read followups:write'));
  const token = await app.inject({ method: 'POST', url: '/token', payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret } });
  assert.equal(token.statusCode, 200, token.body);
  return { id: client.client_id, bearer: `Bearer ${token.json().access_token}` };
}

const limits = async (bearer: string) => ({
  read: budget(await app.inject({ method: 'GET', url: `${API}/followups`, headers: { authorization: bearer } })).limit,
  write: budget(await app.inject({ method: 'POST', url: `${API}/followups`, headers: { authorization: bearer }, payload: {} })).limit,
});

function assertUsage(result: CliResult, message: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, message);
}

describe('client update', () => {
  test('--read-limit and --write-limit set the client\'s own budgets, `default` clears one; the running app follows within moments', TIMEOUT, async () => {
    const client = await newClient();
    assert.deepEqual(await limits(client.bearer), { read: 1_000, write: 500 });
    assert.deepEqual(printedObject(await cli('client', 'update', '--client', client.id, '--read-limit', '3', '--write-limit', '2')), {
      client_id: client.id, scopes: ['followups:read', 'followups:write'], read_limit: 3, write_limit: 2,
    });
    await waitFor('the new budgets', async () => {
      const shown = await limits(client.bearer);
      return shown.read === 3 && shown.write === 2 ? true : undefined;
    }, 5_000);
    assert.deepEqual(printedObject(await cli('client', 'update', '--client', client.id, '--read-limit', 'default')), {
      client_id: client.id, scopes: ['followups:read', 'followups:write'], read_limit: null, write_limit: 2,
    });
    await waitFor('the default read budget', async () => ((await limits(client.bearer)).read === 1_000 ? true : undefined), 5_000);
    assert.equal((await limits(client.bearer)).write, 2);
    const listed = printedObject(await cli('client', 'list', '--company', company)).clients.find((c: { client_id: string }) => c.client_id === client.id);
    assert.deepEqual({ read_limit: listed.read_limit, write_limit: listed.write_limit }, { read_limit: null, write_limit: 2 });
  });

  test('--scopes and the budgets in one command, and --scopes alone as before', TIMEOUT, async () => {
    const client = await newClient();
    assert.deepEqual(printedObject(await cli('client', 'update', '--client', client.id, '--scopes', 'followups:read', '--write-limit', '9')), {
      client_id: client.id, scopes: ['followups:read'], read_limit: null, write_limit: 9,
    });
    assert.deepEqual(printedObject(await cli('client', 'update', '--client', client.id, '--scopes', 'followups:read debts:read')), {
      client_id: client.id, scopes: ['followups:read', 'debts:read'], read_limit: null, write_limit: 9,
    });
  });

  test('bad values are usage errors naming the flag, and change nothing', TIMEOUT, async () => {
    const client = await newClient();
    assertUsage(await cli('client', 'update', '--client', client.id), /client update needs --scopes, --read-limit or --write-limit/);
    for (const value of ['0', '-5', '1e3', '1000000001']) {
      assertUsage(await cli('client', 'update', '--client', client.id, '--read-limit', value), /--read-limit must be an integer from 1 to 1000000000 \(requests per window\), or "default"/);
    }
    assertUsage(await cli('client', 'update', '--client', client.id, '--write-limit', 'none'), /--write-limit must be an integer/);
    // A bad scope stops the whole change: the budget given with it is not set either.
    assertUsage(await cli('client', 'update', '--client', client.id, '--scopes', 'debts:delete', '--read-limit', '4'), /Unknown scope\(s\): debts:delete/);
    assertUsage(await cli('client', 'update', '--client', 'rlc_nobody', '--read-limit', '4'), /--client: no such client/);
    const listed = printedObject(await cli('client', 'list', '--company', company)).clients.find((c: { client_id: string }) => c.client_id === client.id);
    assert.deepEqual({ scopes: listed.scopes, read_limit: listed.read_limit, write_limit: listed.write_limit }, {
      scopes: ['followups:read', 'followups:write'], read_limit: null, write_limit: null,
    });
  });
});
