import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { insertCompany } from '../../src/companies/repository.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys } from '../../src/security/keys.js';
import { setup } from '../helpers/setup.js';
import { DEBT_KEYS } from './requests.js';

const ctx = await setup();
const run = promisify(execFile);
const secretKey = randomBytes(32).toString('hex');
const cliIds = new IdCodec(deriveKeys(Buffer.from(secretKey, 'hex')).ids);

/** `relance debt create ...` on the test database; resolves with its exit code and output. */
async function debtCreate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const company = await insertCompany('CLI company', ctx.pool);
  const argv = ['--import', 'tsx', 'src/cli/main.ts', 'debt', 'create', '--company', cliIds.encode('company', company.id), ...args];
  const env = { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL, RELANCE_SECRET_KEY: secretKey, LOG_LEVEL: 'warn' };
  try {
    const { stdout, stderr } = await run(process.execPath, argv, { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('relance debt create', () => {
  test('prints the debt object, validated and normalised as by POST /debts', async () => {
    const result = await debtCreate(['--firstname', ' Jane ', '--lastname', 'Doe', '--amount', '1250.50', '--currency', 'eur', '--phone', '+33 6 12 34 56 78']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const debt = JSON.parse(lines[0]!);
    assert.deepEqual(Object.keys(debt), DEBT_KEYS);
    assert.equal(debt.firstname, 'Jane');
    assert.equal(debt.phone, '+33612345678');
    assert.equal(debt.amount, 1250.5);
    assert.equal(debt.currency, 'EUR');
    assert.equal(debt.amount_text, '1\u202f250,50\u00a0€');
    assert.equal(debt.status, 'status.default.pending');
    const { rows } = await ctx.pool.query('SELECT phone, amount::text FROM debts WHERE id = $1', [cliIds.decode('debt', debt.id)]);
    assert.deepEqual(rows[0], { phone: '+33612345678', amount: '1250.50' });
  });

  test('refuses what the API refuses, naming every bad field, with exit code 2', async () => {
    const result = await debtCreate(['--firstname', 'Jane', '--amount', '12,50', '--currency', 'EUX', '--phone', '06 12 34 56 78']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    for (const message of [
      'lastname is required',
      'amount must be a number greater than 0',
      'currency must be an ISO 4217 currency code such as EUR',
      'phone has no international prefix (such as +33) and the debt has no country',
    ]) assert.ok(result.stderr.includes(message), `${message} in ${result.stderr}`);
  });
});
