import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { body, setup } from '../helpers/setup.js';
import { VALID_DEBT, debtClient } from '../helpers/debts.js';

const ctx = await setup();
const api = debtClient(ctx);

const FIELDS = [
  'civility', 'firstname', 'lastname', 'phone', 'email', 'amount', 'currency', 'birthdate', 'object', 'internal_id',
  'invoice_reference', 'debtor_reference', 'invoice_date', 'due_date', 'address', 'address_complement', 'zip_code',
  'city', 'country', 'iban', 'payment_link', 'metadata', 'status',
];

/** Any JSON value, biased towards the shapes the fields expect and their edges. */
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double({ noNaN: true }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '+33612345678', '06 12 34 56 78', 'EUR', 'FR', '2024-02-29', 'status.default.paid', 1e308, -0),
);
const debtBody = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 8 }).map((fields) => ({ ...VALID_DEBT, ...fields }));

describe('debts: arbitrary input never causes a server error', () => {
  test('create and update answer 2xx or 400, and a 2xx body is a debt', async () => {
    const tenant = await ctx.tenant();
    const target = body(await api.create(tenant.auth, VALID_DEBT)).data.id as string;
    await fc.assert(
      fc.asyncProperty(debtBody, fc.boolean(), async (payload, update) => {
        const response = update ? await api.update(tenant.auth, target, payload) : await api.create(tenant.auth, payload);
        assert.ok([200, 201, 400].includes(response.statusCode), `${response.statusCode} ${response.body} for ${JSON.stringify(payload)}`);
        if (response.statusCode !== 400) assert.equal(typeof body(response).data.amount_text, 'string');
        else if (body(response).details) assert.equal(typeof Object.values(body(response).details)[0], 'string');
        else {
          // The one 400 without details: a prototype-poisoning key anywhere in the body (any JSON value can hold one).
          assert.match(body(response).message, /must not contain a "__proto__" key/);
          assert.match(JSON.stringify(payload), /"(__proto__|constructor)":/);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('list answers 200 or 400 to any query', async () => {
    const tenant = await ctx.tenant();
    const param = fc.constantFrom('page', 'limit', 'status', 'currency', 'created_from', 'created_to', 'other');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(param, fc.string({ maxLength: 30 })), { maxLength: 5 }), async (pairs) => {
        const query = new URLSearchParams(pairs).toString();
        const response = await api.list(tenant.auth, `?${query}`);
        assert.ok([200, 400].includes(response.statusCode), `${response.statusCode} ${response.body} for ?${query}`);
      }),
      { numRuns: 150 },
    );
  });
});
