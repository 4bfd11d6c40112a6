import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { body, setup, type Tenant } from '../helpers/setup.js';

const ctx = await setup();
const api = followupClient(ctx);

/** One company with a known set of followups on two debts; another company with its own. */
let tenant: Tenant;
let debtA: string;
let debtB: string;
const made: any[] = [];

before(async () => {
  tenant = await ctx.tenant();
  debtA = await tenant.debt();
  debtB = await tenant.debt();
  const specs = [
    { debt_id: debtA, status: 'scheduled', type: 'call', scheduled_at: '2024-03-01T09:00:00Z' },
    { debt_id: debtA, status: 'no_answer', type: 'call', call_date: '2024-03-02T10:00:00Z', scheduled_at: '2024-03-02T09:00:00Z' },
    { debt_id: debtA, status: 'deal_found', type: 'email', call_date: '2024-03-03T23:30:00Z' },
    { debt_id: debtB, status: 'scheduled', type: 'sms', scheduled_at: '2024-03-03T08:00:00Z' },
    { debt_id: debtB, status: 'sent', type: 'email', call_date: '2024-03-04T00:00:00Z' },
    // Same activity date as the previous one: ordered by id.
    { debt_id: debtB, status: 'sent', type: 'email', call_date: '2024-03-04T00:00:00Z' },
    { debt_id: debtB, status: 'failed', type: 'whatsapp', scheduled_at: '2024-03-05T12:00:00Z' },
  ];
  for (const spec of specs) made.push(await api.created(tenant.auth, spec));
  const other = await ctx.tenant();
  await api.created(other.auth, { debt_id: await other.debt(), status: 'scheduled', scheduled_at: '2024-03-03T00:00:00Z' });
});

const ids = (response: { json(): any }) => response.json().data.map((f: any) => f.id);
const byIndex = (...indexes: number[]) => indexes.map((i) => made[i].id);

describe('list followups', () => {
  test('default: newest activity first, ties by id, full objects, page pagination', async () => {
    const response = await api.list(tenant.auth, '');
    assert.equal(response.statusCode, 200);
    const json = body(response);
    assert.deepEqual(Object.keys(json), ['error', 'data', 'pagination']);
    assert.equal(json.error, false);
    assert.deepEqual(ids(response), byIndex(6, 5, 4, 2, 3, 1, 0));
    assert.deepEqual(json.pagination, { total: 7, page: 1, limit: 20, pages: 1 });
    assert.equal(Object.keys(json.data[0]).length, 23);
  });

  test('activity date is call_date, else scheduled_at; ascending sort reverses the order', async () => {
    const response = await api.list(tenant.auth, 'sort=activity_date');
    assert.deepEqual(ids(response), byIndex(0, 1, 3, 2, 4, 5, 6));
  });

  test('filters: status, several statuses, type, debt', async () => {
    assert.deepEqual(ids(await api.list(tenant.auth, 'status=scheduled')), byIndex(3, 0));
    assert.deepEqual(ids(await api.list(tenant.auth, 'status=scheduled,failed')), byIndex(6, 3, 0));
    assert.deepEqual(ids(await api.list(tenant.auth, 'type=email')), byIndex(5, 4, 2));
    assert.deepEqual(ids(await api.list(tenant.auth, 'type=email,sms&status=sent')), byIndex(5, 4));
    assert.deepEqual(ids(await api.list(tenant.auth, `debt_id=${debtA}`)), byIndex(2, 1, 0));
  });

  test('date filters are inclusive; a date covers its whole day', async () => {
    assert.deepEqual(ids(await api.list(tenant.auth, 'date_from=2024-03-03&date_to=2024-03-03')), byIndex(2, 3));
    assert.deepEqual(ids(await api.list(tenant.auth, 'date_from=2024-03-02T10:00:00Z&date_to=2024-03-04T00:00:00Z')), byIndex(5, 4, 2, 3, 1));
    // 01:00+02:00 is 23:00 UTC on the 3rd: the 23:30 UTC call is after it.
    assert.deepEqual(ids(await api.list(tenant.auth, 'date_to=2024-03-04T01:00:00%2B02:00')), byIndex(3, 1, 0));
    assert.deepEqual(ids(await api.list(tenant.auth, 'scheduled_from=2024-03-02&scheduled_to=2024-03-03')), byIndex(3, 1));
  });

  test('a date-time upper bound covers its whole second, as timestamps are shown to the second', async () => {
    const own = await ctx.tenant();
    const debtId = await own.debt();
    const at = '2030-05-05T10:00:00.999Z';
    const followup = await api.created(own.auth, { debt_id: debtId, call_date: at, scheduled_at: at });
    assert.equal(followup.call_date, '2030-05-05T10:00:00+00:00');
    const total = async (query: string) => body(await api.list(own.auth, query)).pagination.total;
    assert.equal(await total(`date_to=${followup.call_date.replace('+', '%2B')}`), 1);
    assert.equal(await total('scheduled_to=2030-05-05T10:00:00Z&scheduled_from=2030-05-05T10:00:00Z'), 1);
    assert.equal(await total('date_to=2030-05-05T09:59:59Z'), 0);
    assert.equal(await total('date_from=2030-05-05T10:00:01Z'), 0);
    // The last second a timestamp can name still works as a bound.
    assert.equal(await total('date_to=9999-12-31T23:59:59Z&scheduled_to=9999-12-31'), 1);
    // An upper bound before the lower one is refused, dates alone included.
    const reversed = await api.list(own.auth, 'date_from=2024-03-04&date_to=2024-03-03');
    assert.equal(reversed.statusCode, 400);
    assert.equal(body(reversed).details.date_from, 'date_from must not be after date_to');
  });

  test('updated_since and sort by updated_at', async () => {
    await ctx.pool.query("UPDATE followups SET updated_at = now() - interval '1 day' WHERE company_id = $1", [tenant.companyId]);
    await api.update(tenant.auth, made[1].id, { notes: 'touched' });
    await api.update(tenant.auth, made[4].id, { notes: 'touched later' });
    const since = new Date(Date.now() - 3_600_000).toISOString();
    assert.deepEqual(ids(await api.list(tenant.auth, `updated_since=${since}&sort=updated_at`)), byIndex(1, 4));
    assert.deepEqual(ids(await api.list(tenant.auth, `updated_since=${since}&sort=-updated_at`)), byIndex(4, 1));
  });

  test('pagination keys come in the documented order', async () => {
    const paged = await api.list(tenant.auth, 'limit=2');
    assert.match(paged.body, /"pagination":\{"total":7,"page":1,"limit":2,"pages":4\}\}$/);
    const cursored = await api.list(tenant.auth, 'limit=2&cursor=');
    assert.match(cursored.body, /"pagination":\{"limit":2,"next_cursor":"[A-Za-z0-9_-]+"\}\}$/);
  });

  test('page and limit', async () => {
    const second = await api.list(tenant.auth, 'limit=3&page=2');
    assert.deepEqual(ids(second), byIndex(2, 3, 1));
    assert.deepEqual(body(second).pagination, { total: 7, page: 2, limit: 3, pages: 3 });
    const beyond = await api.list(tenant.auth, 'limit=3&page=9');
    assert.deepEqual(body(beyond).data, []);
  });

  test('cursor pages walk every row exactly once, in the same order as pages', async () => {
    for (const sort of ['-activity_date', 'activity_date', '-updated_at', 'updated_at']) {
      const expected = ids(await api.list(tenant.auth, `sort=${sort}&limit=100`));
      const seen: string[] = [];
      let cursor = '';
      for (let guard = 0; guard < 10; guard++) {
        const response = await api.list(tenant.auth, `sort=${sort}&limit=2&cursor=${cursor}`);
        assert.equal(response.statusCode, 200, response.body);
        const json = body(response);
        seen.push(...ids(response));
        assert.equal(json.pagination.limit, 2);
        if (json.pagination.next_cursor === null) break;
        cursor = json.pagination.next_cursor;
      }
      assert.deepEqual(seen, expected, sort);
    }
  });

  test('a cursor page is stable when rows are added before it', async () => {
    const first = body(await api.list(tenant.auth, 'limit=2&cursor=&status=sent,failed,no_answer'));
    const extra = await api.created(tenant.auth, { debt_id: debtA, status: 'failed', call_date: '2030-01-01T00:00:00Z' });
    const next = body(await api.list(tenant.auth, `limit=2&status=sent,failed,no_answer&cursor=${first.pagination.next_cursor}`));
    assert.deepEqual(next.data.map((f: any) => f.id), byIndex(4, 1));
    assert.equal(next.pagination.next_cursor, null);
    await ctx.pool.query('DELETE FROM followups WHERE id = $1', [ctx.ids.decode('followup', extra.id)]);
  });

  test('every bad parameter is a 400 naming it, all at once', async () => {
    const response = await api.list(tenant.auth, 'status=done&type=fax&date_from=x&date_to=y&scheduled_from=z&scheduled_to=2024-02-30&updated_since=now&sort=name&page=0&limit=101&debt_id=nope');
    assert.equal(response.statusCode, 400);
    const json = body(response);
    assert.equal(json.message, 'Validation failed');
    assert.deepEqual(Object.keys(json.details).sort(), [
      'date_from', 'date_to', 'debt_id', 'limit', 'page', 'scheduled_from', 'scheduled_to', 'sort', 'status', 'type', 'updated_since',
    ]);
    const repeated = await api.list(tenant.auth, 'status=sent&status=failed&cursor=&cursor=');
    assert.deepEqual(body(repeated).details, { status: 'status must be given once', cursor: 'cursor must be given once' });
    for (const query of ['limit=0', 'limit=abc', 'page=-1', 'page=1.5', 'cursor=%%%', 'cursor=abc', 'cursor=&page=2', 'date_from=2024-03-05&date_to=2024-03-01']) {
      const bad = await api.list(tenant.auth, query);
      assert.equal(bad.statusCode, 400, query);
      assert.equal(typeof Object.values(body(bad).details)[0], 'string');
    }
    // Names every object has in JavaScript are not sorts either.
    for (const sort of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const bad = await api.list(tenant.auth, `sort=${sort}`);
      assert.equal(bad.statusCode, 400, sort);
      assert.deepEqual(body(bad).details, { sort: 'Invalid sort. Valid values are: -activity_date, activity_date, -updated_at, updated_at' });
    }
    const otherSort = body(await api.list(tenant.auth, 'limit=1&cursor=')).pagination.next_cursor;
    const mismatch = await api.list(tenant.auth, `sort=updated_at&cursor=${otherSort}`);
    assert.equal(mismatch.statusCode, 400);
    assert.ok(body(mismatch).details.cursor);
  });

  test('forged cursors never fail the server', async () => {
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const id = made[0].id;
    for (const value of [['-activity_date', '2024-02-30T00:00:00.000000', id], ['-activity_date', '99999-01-01', id], ['-activity_date', '2024-01-01T00:00:00.000000', 1],
      ['-activity_date', '2024-01-01T00:00:00.000000', debtA], ['-activity_date', '2024-01-01T00:00:00.000000', 'A'.repeat(22)], ['-activity_date', 5, 5], {}]) {
      const response = await api.list(tenant.auth, `cursor=${forged(value)}`);
      assert.equal(response.statusCode, 400, JSON.stringify(value));
    }
    const valid = await api.list(tenant.auth, `cursor=${forged(['-activity_date', '9999-12-31T23:59:59.999999', id])}`);
    assert.equal(valid.statusCode, 200);
  });

  test('a cursor holds the public id of the row it continues after, never an internal number', async () => {
    const page = body(await api.list(tenant.auth, 'limit=2&cursor='));
    const [sort, , after] = JSON.parse(Buffer.from(page.pagination.next_cursor, 'base64url').toString('utf8'));
    assert.equal(sort, '-activity_date');
    assert.equal(after, page.data[1].id);
  });
});

describe("list one debt's followups", () => {
  test('lists only that debt, with the same filters', async () => {
    const response = await api.list(tenant.auth, 'status=sent', `/followups/debt/${debtB}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(ids(response), byIndex(5, 4));
    assert.deepEqual(ids(await api.list(tenant.auth, '', `/followups/debt/${debtA}`)), byIndex(2, 1, 0));
  });

  test("another company's debt is 403; unknown and cross-type ids are 404", async () => {
    const other = await ctx.tenant();
    const denied = await api.list(other.auth, '', `/followups/debt/${debtA}`);
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.body, JSON.stringify({ error: true, message: 'Access denied to this debt', code: 403 }));
    for (const id of [made[0].id, ctx.ids.encode('debt', 2 ** 40), 'zzz']) {
      const missing = await api.list(tenant.auth, '', `/followups/debt/${id}`);
      assert.equal(missing.statusCode, 404, id);
      assert.equal(body(missing).message, 'Debt not found');
    }
  });
});

describe('list security', () => {
  test('no token is 401, a token without followups:read is 403', async () => {
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/external-api/v1/followups' })).statusCode, 401);
    const writer = await ctx.tenant(['followups:write']);
    const response = await api.list(writer.auth, '');
    assert.equal(response.statusCode, 403);
    assert.equal(body(response).message, 'Required scope "followups:read" not found in token');
  });

  test("a company never sees another company's followups, even filtering on its debt", async () => {
    const other = await ctx.tenant();
    const response = await api.list(other.auth, `debt_id=${debtA}`);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(body(response).data, []);
    assert.equal(body(await api.list(other.auth, '')).pagination.total, 0);
  });
});
