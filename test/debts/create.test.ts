import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { body, setup } from '../helpers/setup.js';
import { DEBT_KEYS, VALID_DEBT, debtClient } from '../helpers/debts.js';

const ctx = await setup();
const api = debtClient(ctx);
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/;

/** The `details` of a create that must fail with 400. */
async function refused(payload: unknown): Promise<Record<string, string>> {
  const tenant = await ctx.tenant(['debts:write']);
  const response = await api.create(tenant.auth, payload);
  assert.equal(response.statusCode, 400, response.body);
  const json = body(response);
  assert.equal(json.message, 'Validation failed');
  assert.equal(json.code, 400);
  return json.details;
}

describe('create debt', () => {
  test('every field is stored, normalised and returned in order', async () => {
    const tenant = await ctx.tenant();
    const before = Date.now();
    // Fields stored as sent, then those the API normalises, as sent and as returned.
    const asSent = {
      civility: 'Ms', lastname: 'Doe', email: 'jane.doe@example.com', amount: 1250, birthdate: '1985-04-12',
      object: 'Invoice INV-2024-001', internal_id: 'D-42', invoice_reference: 'INV-2024-001', debtor_reference: 'C-1042',
      invoice_date: '2024-01-05', due_date: '2024-02-05', address: '1 rue de la Paix', address_complement: 'Bât. B',
      zip_code: '75002', city: 'Paris', payment_link: 'https://pay.example.com/inv-2024-001',
      metadata: { crm_id: 'C-1042', tags: ['b2c'], nested: { score: 3 } },
    };
    const response = await api.create(tenant.auth, {
      ...asSent, firstname: '  Jane ', phone: '06 12 34 56 78', currency: 'eur', country: 'fr', iban: 'fr76 3000 6000 0112 3456 7890 189',
    });
    assert.equal(response.statusCode, 201, response.body);
    const json = body(response);
    assert.deepEqual(Object.keys(json), ['error', 'message', 'data']);
    assert.equal(json.message, 'Debt created successfully');
    assert.deepEqual(Object.keys(json.data), DEBT_KEYS);
    assert.match(json.data.id, /^[A-Za-z0-9_-]{22}$/);
    assert.match(json.data.import_date, TIMESTAMP);
    assert.ok(Math.abs(Date.parse(json.data.import_date) - before) < 5000);
    assert.deepEqual({ ...json.data, id: undefined, import_date: undefined }, {
      ...asSent,
      id: undefined,
      status: 'status.default.pending',
      firstname: 'Jane',
      phone: '+33612345678',
      amount_text: '1\u202f250,00\u00a0€',
      currency: 'EUR',
      country: 'FR',
      iban: 'FR7630006000011234567890189',
      followups_count: 0,
      nb_reminders: 0,
      nb_answered: 0,
      import_date: undefined,
    });
    const got = body(await api.get(tenant.auth, json.data.id));
    assert.deepEqual(got.data, json.data);
  });

  test('the minimum: names, a contact, amount and currency; the rest is null', async () => {
    const tenant = await ctx.tenant();
    const response = await api.create(tenant.auth, { firstname: 'Jean', lastname: 'Dupont', phone: '+33 1 23 45 67 89', amount: 99.9, currency: 'EUR' });
    assert.equal(response.statusCode, 201, response.body);
    const data = body(response).data;
    assert.equal(data.phone, '+33123456789');
    assert.equal(data.email, null);
    assert.equal(data.amount, 99.9);
    assert.equal(data.amount_text, '99,90\u00a0€');
    for (const key of ['civility', 'birthdate', 'object', 'iban', 'country', 'metadata', 'payment_link', 'due_date']) {
      assert.equal(data[key], null, key);
    }
  });

  test('amount_text follows the currency: its symbol and decimals', async () => {
    const tenant = await ctx.tenant();
    const cases: [number, string, string][] = [
      [1250.5, 'USD', '1\u202f250,50\u00a0$US'],
      [1250, 'JPY', '1\u202f250\u00a0JPY'],
      [1250.25, 'KWD', '1\u202f250,250\u00a0KWD'],
      [0.01, 'EUR', '0,01\u00a0€'],
      [999999999999.99, 'EUR', '999\u202f999\u202f999\u202f999,99\u00a0€'],
    ];
    for (const [amount, currency, text] of cases) {
      const response = await api.create(tenant.auth, { ...VALID_DEBT, amount, currency });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(body(response).data.amount, amount);
      assert.equal(body(response).data.amount_text, text, currency);
    }
  });

  test('read-only and unknown fields are ignored', async () => {
    const tenant = await ctx.tenant();
    const response = await api.create(tenant.auth, {
      ...VALID_DEBT, id: 'x', status: 'status.default.paid', followups_count: 9, amount_text: 'free', colour: 'blue',
    });
    assert.equal(response.statusCode, 201, response.body);
    const data = body(response).data;
    assert.equal(data.status, 'status.default.pending');
    assert.equal(data.followups_count, 0);
    assert.equal(data.colour, undefined);
  });
});

describe('create debt: phone numbers', () => {
  const accepted: [Record<string, unknown>, string][] = [
    [{ phone: '+33612345678' }, '+33612345678'],
    [{ phone: '+33 6 12 34 56 78' }, '+33612345678'],
    [{ phone: '06.12.34.56.78', country: 'FR' }, '+33612345678'],
    [{ phone: '0033 6 12 34 56 78', country: 'FR' }, '+33612345678'],
    [{ phone: '(202) 555-0123', country: 'US' }, '+12025550123'],
    [{ phone: '+44 20 7946 0958', country: 'FR' }, '+442079460958'],
  ];
  for (const [fields, e164] of accepted) {
    test(`${JSON.stringify(fields)} is stored as ${e164}`, async () => {
      const tenant = await ctx.tenant();
      const response = await api.create(tenant.auth, { ...VALID_DEBT, ...fields });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(body(response).data.phone, e164);
    });
  }

  test('a national number without a country is refused with a clear message', async () => {
    const details = await refused({ ...VALID_DEBT, phone: '06 12 34 56 78' });
    assert.deepEqual(details, {
      phone: 'phone has no international prefix (such as +33) and the debt has no country: send it in international format or set country',
    });
  });

  test('invalid numbers are refused', async () => {
    for (const phone of ['+33 1 23', '+33 6 12 34 56 78 90 12', 'call me', '+999 123456', '+33612345678 ext. 12', '']) {
      const details = await refused({ ...VALID_DEBT, phone });
      assert.deepEqual(Object.keys(details), ['phone'], phone);
      assert.match(details.phone!, /^phone must/, phone);
    }
  });

  test('a national number with an invalid country reports the country only', async () => {
    assert.deepEqual(await refused({ ...VALID_DEBT, phone: '06 12 34 56 78', country: 'ZZ' }), {
      country: 'country must be an ISO 3166-1 alpha-2 country code such as FR',
    });
  });

  test('a national number with a country that has no numbering plan', async () => {
    const details = await refused({ ...VALID_DEBT, phone: '06 12 34 56 78', country: 'AQ' });
    assert.match(details.phone!, /country AQ has no numbering plan/);
  });
});

describe('create debt: validation', () => {
  test('required fields, each named', async () => {
    assert.deepEqual(await refused({}), {
      firstname: 'firstname is required',
      lastname: 'lastname is required',
      amount: 'amount is required',
      currency: 'currency is required',
      phone: 'At least one of phone or email is required',
      email: 'At least one of phone or email is required',
    });
  });

  test('phone or email is required', async () => {
    const { email: _email, ...noContact } = VALID_DEBT;
    const expected = { phone: 'At least one of phone or email is required', email: 'At least one of phone or email is required' };
    assert.deepEqual(await refused(noContact), expected);
    assert.deepEqual(await refused({ ...noContact, phone: null, email: null }), expected);
  });

  test('every failing field is reported at once, one string each', async () => {
    const details = await refused({
      civility: 'Dr',
      firstname: '   ',
      lastname: 42,
      phone: '+33 12',
      email: 'not-an-email',
      amount: -5,
      currency: 'EURO',
      birthdate: '12/04/1985',
      object: 'x'.repeat(1001),
      internal_id: ['a'],
      invoice_reference: 'x'.repeat(256),
      debtor_reference: {},
      invoice_date: '2024-02-30',
      due_date: '2024-13-01',
      address: true,
      address_complement: 1,
      zip_code: 'x'.repeat(21),
      city: false,
      country: 'France',
      iban: 'FR76 3000 6000 0112 3456 7890 188',
      payment_link: 'ftp://example.com',
      metadata: [1, 2],
    });
    assert.deepEqual(Object.keys(details).sort(), [
      'address', 'address_complement', 'amount', 'birthdate', 'city', 'civility', 'country', 'currency', 'debtor_reference',
      'due_date', 'email', 'firstname', 'iban', 'internal_id', 'invoice_date', 'invoice_reference', 'lastname', 'metadata',
      'object', 'payment_link', 'phone', 'zip_code',
    ]);
    for (const [field, message] of Object.entries(details)) {
      assert.equal(typeof message, 'string');
      assert.ok(message.includes(field) || field === 'civility', `${field}: ${message}`);
    }
    assert.equal(details.civility, 'Invalid civility. Valid values are: Mr, Ms');
    assert.equal(details.firstname, 'firstname must be a non-blank string of at most 255 characters');
    assert.equal(details.iban, 'iban must be a valid IBAN (its country format or check digits are wrong)');
  });

  const amounts: [unknown, string][] = [
    [0, 'amount must be a number greater than 0 and at most 999999999999.99'],
    [-1, 'amount must be a number greater than 0 and at most 999999999999.99'],
    [1e12, 'amount must be a number greater than 0 and at most 999999999999.99'],
    ['100.00', 'amount must be a number greater than 0 and at most 999999999999.99'],
    [null, 'amount must be a number greater than 0 and at most 999999999999.99'],
    [10.005, 'amount must have at most 2 decimals'],
    [0.001, 'amount must have at most 2 decimals'],
  ];
  for (const [amount, message] of amounts) {
    test(`amount ${JSON.stringify(amount)} is refused`, async () => {
      assert.deepEqual(await refused({ ...VALID_DEBT, amount }), { amount: message });
    });
  }

  test('amount may not have more decimals than its currency', async () => {
    assert.deepEqual(await refused({ ...VALID_DEBT, amount: 100.5, currency: 'JPY' }), { amount: 'amount must have no decimals in JPY' });
    assert.deepEqual(await refused({ ...VALID_DEBT, amount: 10.005, currency: 'EUX' }), {
      amount: 'amount must have at most 2 decimals',
      currency: 'currency must be an ISO 4217 currency code such as EUR',
    });
  });

  test('currency must be an ISO 4217 code of money', async () => {
    for (const currency of ['EUX', 'XXX', 'XAU', 'XTS', 'EU', 'EURO', '€', 5]) {
      assert.deepEqual(await refused({ ...VALID_DEBT, currency }), { currency: 'currency must be an ISO 4217 currency code such as EUR' }, String(currency));
    }
    const tenant = await ctx.tenant();
    for (const currency of ['VED', 'XCG', 'XOF', 'CHF', 'usd']) {
      const response = await api.create(tenant.auth, { ...VALID_DEBT, currency });
      assert.equal(response.statusCode, 201, `${currency}: ${response.body}`);
      assert.equal(body(response).data.currency, currency.toUpperCase());
    }
  });

  test('country must be an ISO 3166-1 alpha-2 code', async () => {
    for (const country of ['ZZ', 'FRA', 'F', '12', 'UK']) {
      assert.deepEqual(await refused({ ...VALID_DEBT, country }), { country: 'country must be an ISO 3166-1 alpha-2 country code such as FR' }, country);
    }
  });

  test('IBANs: checksum and country format', async () => {
    for (const iban of ['FR7630006000011234567890188', 'DE89 3704 0044 0532 0130 01', 'XX00 1234', 'not an iban', '']) {
      assert.deepEqual(Object.keys(await refused({ ...VALID_DEBT, iban })), ['iban'], iban);
    }
    const tenant = await ctx.tenant();
    const response = await api.create(tenant.auth, { ...VALID_DEBT, iban: 'DE89 3704 0044 0532 0130 00' });
    assert.equal(body(response).data.iban, 'DE89370400440532013000');
  });

  test('dates: real calendar dates, birthdate not in the future', async () => {
    for (const date of ['2024-02-30', '2024-1-5', '2024-01-05T10:00:00Z', '05/01/2024', '0999-01-01', '']) {
      const details = await refused({ ...VALID_DEBT, due_date: date, invoice_date: date });
      assert.deepEqual(details, {
        invoice_date: 'invoice_date must be a date in the format YYYY-MM-DD',
        due_date: 'due_date must be a date in the format YYYY-MM-DD',
      }, date);
    }
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    assert.deepEqual(await refused({ ...VALID_DEBT, birthdate: tomorrow }), { birthdate: 'birthdate must not be in the future' });
    const tenant = await ctx.tenant();
    const leap = await api.create(tenant.auth, { ...VALID_DEBT, due_date: '2024-02-29' });
    assert.equal(body(leap).data.due_date, '2024-02-29');
  });

  test('metadata: an object, bounded in size and depth, storable', async () => {
    for (const metadata of ['text', 5, [1], true]) {
      assert.deepEqual(await refused({ ...VALID_DEBT, metadata }), { metadata: 'metadata must be a JSON object' });
    }
    assert.deepEqual(await refused({ ...VALID_DEBT, metadata: { blob: 'x'.repeat(16_384) } }), {
      metadata: 'metadata must be at most 16384 bytes as JSON',
    });
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { deep };
    assert.deepEqual(await refused({ ...VALID_DEBT, metadata: deep }), { metadata: 'metadata must not be nested more than 16 levels deep' });
    for (const metadata of [{ a: 'nul\u0000' }, { 'k\u0000': 1 }, { a: ['\ud800'] }]) {
      assert.deepEqual(await refused({ ...VALID_DEBT, metadata }), { metadata: 'metadata must not contain the NUL character or unpaired surrogates' });
    }
  });

  test('a very deeply nested metadata is a 400, not a crash', async () => {
    const tenant = await ctx.tenant();
    const payload = `{"firstname":"J","lastname":"D","email":"j@example.com","amount":1,"currency":"EUR","metadata":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`;
    const response = await ctx.app.inject({
      method: 'POST', url: '/external-api/v1/debts', headers: { ...tenant.auth, 'content-type': 'application/json' }, payload,
    });
    assert.equal(response.statusCode, 400);
  });

  test('metadata numbers beyond a double (1e400) are refused, not stored as null', async () => {
    const tenant = await ctx.tenant();
    for (const metadata of ['{"a":1e400}', '{"a":[1,{"b":-1e999}]}']) {
      const payload = `{"firstname":"J","lastname":"D","email":"j@example.com","amount":1,"currency":"EUR","metadata":${metadata}}`;
      const response = await ctx.app.inject({
        method: 'POST', url: '/external-api/v1/debts', headers: { ...tenant.auth, 'content-type': 'application/json' }, payload,
      });
      assert.equal(response.statusCode, 400, metadata);
      assert.deepEqual(body(response).details, { metadata: 'metadata must not hold numbers beyond the range of a double (such as 1e400)' });
    }
  });

  test('a NUL character in a text field is a validation error', async () => {
    const details = await refused({ ...VALID_DEBT, city: 'Pa\u0000ris' });
    assert.deepEqual(Object.keys(details), ['city']);
  });

  test('a body that is not an object is a validation error', async () => {
    const tenant = await ctx.tenant();
    for (const payload of [[1, 2], 'text', 42, null]) {
      const response = await api.create(tenant.auth, payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(body(response).message, 'Validation failed');
    }
    const broken = await ctx.app.inject({
      method: 'POST', url: '/external-api/v1/debts', headers: { ...tenant.auth, 'content-type': 'application/json' }, payload: '{broken',
    });
    assert.equal(broken.statusCode, 400);
    assert.equal(body(broken).message, 'Invalid JSON body');
  });
});
