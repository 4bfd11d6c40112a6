import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { body, setup, type Tenant } from '../helpers/setup.js';
import { VALID_DEBT, debtClient } from '../helpers/debts.js';

const ctx = await setup();
const PAGE = 'page must be an integer from 1 to 9007199254740991';
const LIMIT = 'limit must be an integer from 1 to 100';

const api = debtClient(ctx);

/** Each query of the table is a 400 with exactly these details. */
function refusedQueries(table: [string, Record<string, string>][]) {
  for (const [query, details] of table) {
    test(`${query} is a 400 naming the parameter`, async () => {
      const tenant = await ctx.tenant(['debts:read']);
      const response = await api.list(tenant.auth, query);
      assert.equal(response.statusCode, 400);
      assert.deepEqual(body(response), { error: true, message: 'Validation failed', code: 400, details });
    });
  }
}

/** Creates a debt through the API, then sets its creation time. */
async function debtAt(tenant: Tenant, createdAt: string, fields: Record<string, unknown> = {}): Promise<string> {
  const response = await api.create(tenant.auth, { ...VALID_DEBT, ...fields });
  assert.equal(response.statusCode, 201, response.body);
  const id = body(response).data.id as string;
  await ctx.pool.query('UPDATE debts SET created_at = $1 WHERE id = $2', [createdAt, ctx.ids.decode('debt', id)]);
  return id;
}

async function listIds(tenant: Tenant, query: string): Promise<string[]> {
  const response = await api.list(tenant.auth, query);
  assert.equal(response.statusCode, 200, `${query}: ${response.body}`);
  return body(response).data.map((d: { id: string }) => d.id);
}

describe('list debts: pagination', () => {
  test('defaults to page 1 of 20, newest first, with the pagination object', async () => {
    const tenant = await ctx.tenant();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await debtAt(tenant, new Date(Date.UTC(2024, 0, 1 + i)).toISOString()));
    const response = await api.list(tenant.auth);
    assert.equal(response.statusCode, 200);
    const json = body(response);
    assert.deepEqual(Object.keys(json), ['error', 'data', 'pagination']);
    assert.equal(json.error, false);
    assert.deepEqual(json.pagination, { total: 25, page: 1, limit: 20, pages: 2 });
    assert.deepEqual(Object.keys(json.pagination), ['total', 'page', 'limit', 'pages']);
    assert.deepEqual(json.data.map((d: { id: string }) => d.id), ids.slice(5).reverse());
    assert.equal(json.data[0].import_date, '2024-01-25T00:00:00+00:00');

    const second = body(await api.list(tenant.auth, '?page=2'));
    assert.deepEqual(second.pagination, { total: 25, page: 2, limit: 20, pages: 2 });
    assert.deepEqual(second.data.map((d: { id: string }) => d.id), ids.slice(0, 5).reverse());

    const beyond = body(await api.list(tenant.auth, '?page=3'));
    assert.deepEqual(beyond.data, []);
    assert.equal(beyond.pagination.total, 25);

    assert.deepEqual(await listIds(tenant, '?limit=1&page=25'), [ids[0]]);
    assert.equal((await listIds(tenant, '?limit=100')).length, 25);
  });

  test('ties on the creation time are ordered by id, newest first', async () => {
    const tenant = await ctx.tenant();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await debtAt(tenant, '2024-03-01T10:00:00Z'));
    assert.deepEqual(await listIds(tenant, ''), [...ids].reverse());
    assert.deepEqual(await listIds(tenant, '?limit=2&page=2'), [ids[1], ids[0]]);
  });

  test('an empty list has 0 pages', async () => {
    const tenant = await ctx.tenant();
    assert.deepEqual(body(await api.list(tenant.auth)), { error: false, data: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
  });

  const bounds: [string, Record<string, string>][] = [
    ...['0', '-1', '1.5', 'abc', '', '99999999999999999999'].map((page): [string, Record<string, string>] => [`?page=${page}`, { page: PAGE }]),
    ...['0', '101', 'ten'].map((limit): [string, Record<string, string>] => [`?limit=${limit}`, { limit: LIMIT }]),
    ['?page=0&limit=500', { page: PAGE, limit: LIMIT }],
  ];
  refusedQueries(bounds);
});

describe('list debts: filters', () => {
  test('status: one value or a comma-separated list', async () => {
    const tenant = await ctx.tenant();
    const pending = await debtAt(tenant, '2024-01-01T00:00:00Z');
    const paid = await debtAt(tenant, '2024-01-02T00:00:00Z');
    const held = await debtAt(tenant, '2024-01-03T00:00:00Z');
    await api.update(tenant.auth, paid, { status: 'status.default.paid' });
    await api.update(tenant.auth, held, { status: 'status.default.on_hold' });
    assert.deepEqual(await listIds(tenant, '?status=status.default.pending'), [pending]);
    assert.deepEqual(await listIds(tenant, '?status=status.default.paid,status.default.on_hold'), [held, paid]);
    assert.deepEqual(await listIds(tenant, '?status=status.default.paid%2C%20status.default.pending'), [paid, pending]);
    assert.deepEqual(await listIds(tenant, '?status=status.default.archived'), []);
    const total = body(await api.list(tenant.auth, '?status=status.default.paid,status.default.pending')).pagination.total;
    assert.equal(total, 2);
  });

  test('currency, in any case', async () => {
    const tenant = await ctx.tenant();
    const euros = await debtAt(tenant, '2024-01-01T00:00:00Z');
    const dollars = await debtAt(tenant, '2024-01-02T00:00:00Z', { currency: 'USD' });
    assert.deepEqual(await listIds(tenant, '?currency=EUR'), [euros]);
    assert.deepEqual(await listIds(tenant, '?currency=usd'), [dollars]);
    assert.deepEqual(await listIds(tenant, '?currency=CHF'), []);
  });

  test('created_from / created_to: inclusive, dates or date-times with offsets', async () => {
    const tenant = await ctx.tenant();
    const a = await debtAt(tenant, '2024-01-10T12:00:00.400Z');
    const b = await debtAt(tenant, '2024-01-31T23:59:59.900Z');
    const c = await debtAt(tenant, '2024-02-01T00:00:00Z');
    assert.deepEqual(await listIds(tenant, '?created_from=2024-01-10&created_to=2024-01-31'), [b, a]);
    assert.deepEqual(await listIds(tenant, '?created_from=2024-01-11'), [c, b]);
    assert.deepEqual(await listIds(tenant, '?created_to=2024-01-10T12:00:00Z'), [a]);
    assert.deepEqual(await listIds(tenant, '?created_to=2024-01-10T11:59:59Z'), []);
    assert.deepEqual(await listIds(tenant, '?created_from=2024-01-10T12:00:01Z&created_to=2024-02-01'), [c, b]);
    assert.deepEqual(await listIds(tenant, `?created_from=${encodeURIComponent('2024-02-01T01:00:00+01:00')}`), [c]);
    assert.deepEqual(await listIds(tenant, '?created_from=2024-02-01T00:00:00&created_to=2024-02-01T00:00:00Z'), [c]);
  });

  test('filters combine with AND and the total follows them', async () => {
    const tenant = await ctx.tenant();
    await debtAt(tenant, '2024-01-01T00:00:00Z', { currency: 'USD' });
    const match = await debtAt(tenant, '2024-01-05T00:00:00Z', { currency: 'USD' });
    await debtAt(tenant, '2024-01-05T00:00:00Z');
    const response = body(await api.list(tenant.auth, '?currency=USD&created_from=2024-01-02&status=status.default.pending'));
    assert.deepEqual(response.data.map((d: { id: string }) => d.id), [match]);
    assert.deepEqual(response.pagination, { total: 1, page: 1, limit: 20, pages: 1 });
  });

  const statusError = (bad: string) => `Invalid status filter "${bad}". Valid values are: status.default.pending, status.default.paid, status.default.in_progress, status.default.on_hold, status.default.failed, status.default.archived`;
  const CURRENCY = 'currency must be an ISO 4217 currency code such as EUR';
  const invalid: [string, Record<string, string>][] = [
    ['?status=paid', { status: statusError('paid') }],
    ['?status=status.default.paid,nope', { status: statusError('nope') }],
    ['?currency=EUX', { currency: CURRENCY }],
    ['?currency=euros', { currency: CURRENCY }],
    ['?created_from=yesterday', { created_from: 'Invalid created_from format. Use ISO 8601' }],
    ['?created_to=2024-02-30', { created_to: 'Invalid created_to format. Use ISO 8601' }],
    ['?created_from=2024-02-01&created_to=2024-01-01', { created_from: 'created_from must not be after created_to' }],
    ['?status=x&currency=y&created_from=z&limit=0', {
      status: statusError('x'), currency: CURRENCY, created_from: 'Invalid created_from format. Use ISO 8601', limit: LIMIT,
    }],
  ];
  refusedQueries(invalid);

  test('a repeated parameter is a 400, not a crash', async () => {
    const tenant = await ctx.tenant(['debts:read']);
    const response = await api.list(tenant.auth, '?status=status.default.paid&status=status.default.pending&page=1&page=2');
    assert.equal(response.statusCode, 400);
    assert.deepEqual(body(response).details, { status: 'status must be given once', page: 'page must be given once' });
  });
});

describe('list debts: tenant isolation', () => {
  test("another company's debts are never listed nor counted", async () => {
    const mine = await ctx.tenant();
    const theirs = await ctx.tenant();
    const own = await debtAt(mine, '2024-01-01T00:00:00Z');
    for (let i = 0; i < 3; i++) await debtAt(theirs, '2024-01-02T00:00:00Z');
    const response = body(await api.list(mine.auth, '?created_from=2023-01-01'));
    assert.deepEqual(response.data.map((d: { id: string }) => d.id), [own]);
    assert.equal(response.pagination.total, 1);
  });
});
