import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { insertCompany } from '../../src/companies/repository.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys } from '../../src/security/keys.js';
import { setup } from '../helpers/setup.js';
import { DEBT_KEYS } from '../helpers/debts.js';

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

  test('takes every field POST /debts takes, as flags', async () => {
    const result = await debtCreate([
      '--civility', 'Ms', '--firstname', 'Jane', '--lastname', 'Doe', '--phone', '06 12 34 56 78', '--country', 'fr',
      '--email', 'jane@example.com', '--amount', '99.90', '--currency', 'EUR', '--birthdate', '1985-04-12',
      '--object', 'Invoice INV-1', '--internal-id', 'int-1', '--invoice-reference', 'INV-1', '--debtor-reference', 'C-9',
      '--invoice-date', '2024-01-05', '--due-date', '2024-02-05', '--address', '1 rue de la Paix',
      '--address-complement', 'Bât. B', '--zip-code', '75002', '--city', 'Paris', '--iban', 'FR76 3000 6000 0112 3456 7890 189',
      '--payment-link', 'https://pay.example.com/inv-1', '--metadata', '{"crm_id": "C-1042"}',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const debt = JSON.parse(result.stdout);
    assert.deepEqual(
      { ...debt, id: undefined, import_date: undefined },
      {
        id: undefined, status: 'status.default.pending', civility: 'Ms', firstname: 'Jane', lastname: 'Doe', phone: '+33612345678',
        email: 'jane@example.com', amount: 99.9, amount_text: '99,90\u00a0€', currency: 'EUR', birthdate: '1985-04-12',
        object: 'Invoice INV-1', internal_id: 'int-1', invoice_reference: 'INV-1', debtor_reference: 'C-9', invoice_date: '2024-01-05',
        due_date: '2024-02-05', address: '1 rue de la Paix', address_complement: 'Bât. B', zip_code: '75002', city: 'Paris',
        country: 'FR', iban: 'FR7630006000011234567890189', payment_link: 'https://pay.example.com/inv-1', metadata: { crm_id: 'C-1042' },
        followups_count: 0, nb_reminders: 0, nb_answered: 0, import_date: undefined,
      },
    );
  });

  test('a bad value of a multi-word field is reported by its flag; --metadata must be JSON', async () => {
    const result = await debtCreate(['--firstname', 'A', '--lastname', 'B', '--amount', '1', '--currency', 'EUR', '--email', 'a@b.co', '--internal-id', 'x'.repeat(300), '--payment-link', 'ftp://x']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--internal-id must be a string of at most 255 characters/);
    assert.match(result.stderr, /--payment-link must be an absolute http\(s\) URL/);
    const json = await debtCreate(['--firstname', 'A', '--lastname', 'B', '--amount', '1', '--currency', 'EUR', '--email', 'a@b.co', '--metadata', '{oops']);
    assert.equal(json.code, 2);
    assert.match(json.stderr, /--metadata must be a JSON object/);
    for (const poisoned of ['{"__proto__":{}}', '{"constructor":{"prototype":{"x":1}}}']) {
      const refused = await debtCreate(['--firstname', 'A', '--lastname', 'B', '--amount', '1', '--currency', 'EUR', '--email', 'a@b.co', '--metadata', poisoned]);
      assert.equal(refused.code, 2, 'refused as the API refuses it');
      assert.match(refused.stderr, /--metadata must not contain a "__proto__" key/);
    }
  });

  test('refuses what the API refuses, naming every bad field, with exit code 2', async () => {
    const result = await debtCreate(['--firstname', 'Jane', '--amount', '12,50', '--currency', 'EUX', '--phone', '06 12 34 56 78']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    for (const message of [
      '--lastname is required',
      '--amount must be a number greater than 0',
      '--currency must be an ISO 4217 currency code such as EUR',
      '--phone has no international prefix (such as +33) and the debt has no country',
    ]) assert.ok(result.stderr.includes(message), `${message} in ${result.stderr}`);
  });
});
