/**
 * Hostile bodies: a string field given an adversarial value as long as the body limit allows, and
 * JSON nested far deeper than any request needs. Neither may stall the server nor make it fail:
 * each answer is a 4xx (or a success), in about the time a harmless body of the same size takes.
 * Times are compared with a baseline measured in the same run, never with an absolute figure.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { CreateDebtBody } from '../../src/debts/schema.js';
import { CreateFollowupBody } from '../../src/followups/schema.js';
import { MAX_JSON_DEPTH } from '../../src/http/json-body.js';
import { API, body, setup } from '../helpers/setup.js';

const ctx = await setup();
const tenant = await ctx.tenant();
const debtId = await tenant.debt();
const followupId = await tenant.followup(debtId);

/** Fields declared as strings (nullable ones too) by a body schema. */
function stringFields(schema: { properties: object }): string[] {
  return Object.entries(schema.properties as Record<string, { type?: string | string[] }>)
    .filter(([, property]) => [property.type].flat().includes('string'))
    .map(([name]) => name);
}

const validDebt = { firstname: 'Jane', lastname: 'Doe', email: 'jane@example.com', amount: 100, currency: 'EUR' };
const ENDPOINTS = [
  { name: 'POST /followups', method: 'POST', url: `${API}/followups`, base: { debt_id: debtId }, fields: stringFields(CreateFollowupBody) },
  { name: 'PATCH /followups/{id}', method: 'PATCH', url: `${API}/followups/${followupId}`, base: {}, fields: stringFields(CreateFollowupBody).filter((f) => f !== 'debt_id') },
  { name: 'POST /debts', method: 'POST', url: `${API}/debts`, base: validDebt, fields: stringFields(CreateDebtBody) },
  { name: 'PATCH /debts/{id}', method: 'PATCH', url: `${API}/debts/${debtId}`, base: {}, fields: stringFields(CreateDebtBody) },
  { name: 'POST /token', method: 'POST', url: '/token', base: { grant_type: 'client_credentials' }, fields: ['grant_type', 'client_id', 'client_secret', 'scope'] },
] as const;

/** Values built to make a backtracking pattern or a careless parser take quadratic time or worse. */
const SHAPES: Record<string, (n: number) => string> = {
  'url that never ends': (n) => `http://${'a'.repeat(n)} `,
  'one long run, then a mismatch': (n) => `${'a'.repeat(n)}!`,
  'blank, then a mismatch': (n) => `${' '.repeat(n)}\u0000`,
  'email-like labels': (n) => `a@${'a.'.repeat(n / 2)}!`,
  'timestamp with a huge fraction': (n) => `2024-01-01T10:00:00.${'1'.repeat(n)}`,
  'digits': (n) => '9'.repeat(n),
};

async function timed(method: string, url: string, payload: object): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await ctx.app.inject({ method: method as 'POST', url, headers: { ...tenant.auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  return { ms: performance.now() - started, status: response.statusCode };
}

/** The fastest of three: one slow run (a GC pause) says nothing; three slow runs do. */
async function fastest(method: string, url: string, payload: object): Promise<{ ms: number; status: number }> {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await timed(method, url, payload));
  return runs.reduce((a, b) => (b.ms < a.ms ? b : a));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// Sizes grow, so that a super-linear path fails at 16 KiB in well under a second instead of
// holding the event loop for minutes at 1 MiB. The largest leaves room for the rest of the body.
const SIZES = [16 * 1024, 1024 * 1024 - 4096];
// Generous: a linear check of a long string costs a few times a JSON parse of it at most, while
// the pattern this replaced took some 10,000 times the baseline at 100 KB.
const RATIO = 25;

describe('an adversarial value as long as the body allows, in every string field of every body', () => {
  for (const endpoint of ENDPOINTS) {
    test(`${endpoint.name}: answered with no 5xx, within ${RATIO}× a harmless body of the same size`, { timeout: 300_000 }, async () => {
      assert.ok(endpoint.fields.length > 0);
      for (const size of SIZES) {
        const baselines = [];
        for (let i = 0; i < 5; i++) baselines.push((await timed(endpoint.method, endpoint.url, { ...endpoint.base, padding: 'a'.repeat(size) })).ms);
        // A floor of 1 ms keeps a sub-millisecond baseline from making the bound meaningless.
        const bound = RATIO * Math.max(median(baselines), 1);
        for (const field of endpoint.fields) {
          for (const [shape, make] of Object.entries(SHAPES)) {
            const { ms, status } = await fastest(endpoint.method, endpoint.url, { ...endpoint.base, [field]: make(size) });
            const where = `${endpoint.name} ${field} = ${shape} (${size} characters)`;
            assert.ok(status >= 200 && status < 500, `${where}: status ${status}`);
            assert.ok(ms <= bound, `${where}: ${ms.toFixed(1)} ms, more than ${RATIO}× the ${median(baselines).toFixed(1)} ms of a harmless body`);
          }
        }
      }
    });
  }
});

describe('nesting', () => {
  // As text: JSON.stringify itself recurses, and would overflow on the deep ones.
  const nested = (depth: number) => '['.repeat(depth - 1) + '{}' + ']'.repeat(depth - 1);
  const withX = (fields: object, depth: number) => `${JSON.stringify(fields).slice(0, -1)},"x":${nested(depth)}}`;
  const post = (payload: string, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: { ...tenant.auth, 'content-type': 'application/json', ...headers }, payload });

  test(`a body nested deeper than ${MAX_JSON_DEPTH} levels is a 400 saying so, with or without an Idempotency-Key`, async () => {
    const deep = withX({ debt_id: debtId }, 10_000);
    for (const headers of [{}, { 'idempotency-key': 'deep-nesting-1' }] as Record<string, string>[]) {
      const response = await post(deep, headers);
      assert.equal(response.statusCode, 400, response.body);
      assert.deepEqual(body(response), {
        error: true,
        message: `JSON body is nested too deeply (limit: ${MAX_JSON_DEPTH} levels of arrays and objects)`,
        code: 400,
      });
    }
  });

  test('nesting as deep as a 1 MiB body can hold is refused too, arrays and objects alike', async () => {
    const depth = 500_000;
    for (const payload of ['['.repeat(depth) + ']'.repeat(depth), '{"a":'.repeat(depth / 5) + '1' + '}'.repeat(depth / 5)]) {
      const response = await post(payload, { 'idempotency-key': 'deep-nesting-2' });
      assert.equal(response.statusCode, 400, response.body.slice(0, 200));
      assert.match(body(response).message, /nested too deeply/);
    }
  });

  test(`exactly ${MAX_JSON_DEPTH} levels is accepted (the body object counts as the first)`, async () => {
    const response = await post(withX({ debt_id: debtId }, MAX_JSON_DEPTH - 1), { 'idempotency-key': 'nesting-at-limit' });
    assert.equal(response.statusCode, 201, response.body);
    const one = await post(withX({ debt_id: debtId }, MAX_JSON_DEPTH));
    assert.equal(one.statusCode, 400, one.body);
  });

  test('the token endpoint refuses deep JSON with an RFC 6749 error, not a 500', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/json' },
      payload: withX({ grant_type: 'client_credentials' }, 10_000),
    });
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(body(response), {
      error: 'invalid_request',
      error_description: `JSON body is nested too deeply (limit: ${MAX_JSON_DEPTH} levels of arrays and objects)`,
    });
  });
});
