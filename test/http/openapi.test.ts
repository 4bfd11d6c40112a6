/**
 * `/openapi.json` as third-party tools read it: Redocly's recommended ruleset, the scope each
 * operation names against the scope the server checks, examples against their schemas, and the
 * TypeScript types openapi-typescript generates from it against the README walkthrough's requests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import openapiTS, { astToString } from 'openapi-typescript';
import { SCOPES } from '../../src/auth/scopes.js';
import { FOLLOWUP_SORTS } from '../../src/followups/list-query.js';
import { operations, schemaChecker, type OpenApiDocument } from '../helpers/openapi.js';
import { REPO_ROOT } from '../helpers/processes.js';
import { API, body, setup } from '../helpers/setup.js';

const run = promisify(execFile);
const ctx = await setup();
const document: OpenApiDocument = body(await ctx.app.inject({ method: 'GET', url: '/openapi.json' }));
const dir = await mkdtemp(join(tmpdir(), 'relance-openapi-'));
after(() => rm(dir, { recursive: true, force: true }));

/**
 * The warnings left, each for a reason: Relance publishes no licence (the package is private), and
 * `/followups/debt/{debtId}` and `/followups/{id}/history` both match `/followups/debt/history`
 * (GetBill's paths; the router takes the literal `debt`, so that URL lists the followups of the
 * debt "history", which is no ID: a 404).
 */
const ACCEPTED_WARNINGS = ['info-license', 'no-ambiguous-paths'];

describe("Redocly's recommended ruleset", () => {
  test('finds no error, and no warning but the accepted ones', { timeout: 120_000 }, async () => {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(document));
    const result = await run(join(REPO_ROOT, 'node_modules/.bin/redocly'), ['lint', '--extends=recommended', '--format=json', '--max-problems=1000', file], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const report = JSON.parse(result.stdout) as { totals: { errors: number }; problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] };
    const describe = (p: (typeof report.problems)[number]) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`;
    assert.deepEqual(report.problems.filter((p) => p.severity === 'error').map(describe), []);
    assert.equal(report.totals.errors, 0);
    assert.deepEqual(report.problems.filter((p) => !ACCEPTED_WARNINGS.includes(p.ruleId)).map(describe), []);
  });
});

describe('the published contract', () => {
  test('every operation has a unique operationId, a summary and a tag', () => {
    const ids = operations(document).map(({ operation }) => operation.operationId);
    assert.ok(ids.length >= 20, `${ids.length} operations`);
    assert.ok(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id)), ids.join(' '));
    assert.equal(new Set(ids).size, ids.length);
  });

  test('the OAuth 2.0 client-credentials flow gets its token from POST /token, with every scope', () => {
    const scheme = document.components.securitySchemes.oauth2;
    assert.equal(scheme.type, 'oauth2');
    assert.equal(scheme.flows.clientCredentials.tokenUrl, '/token');
    assert.deepEqual(Object.keys(scheme.flows.clientCredentials.scopes), [...SCOPES]);
    assert.ok(document.paths['/token']?.post, 'the token URL is an operation of the document');
  });

  test("the docs' Authorize button gets a token: the request Swagger UI sends for the client-credentials flow", async () => {
    const initializer = await ctx.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    const scopes = /initOAuth\((\{.*\})\)/.exec(initializer.body)?.[1];
    assert.deepEqual(JSON.parse(scopes ?? '{}').scopes, [...SCOPES], 'Authorize starts with every scope ticked');
    const tenant = await ctx.tenant();
    // What swagger-ui's authorizeApplication posts to the tokenUrl.
    const token = await ctx.app.inject({
      method: 'POST',
      url: document.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl,
      headers: { authorization: `Basic ${Buffer.from(`${tenant.clientId}:${tenant.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPES.join(' ') }).toString(),
    });
    assert.equal(token.statusCode, 200, token.body);
    assert.equal(body(token).scope, SCOPES.join(' '));
  });

  test('no keyword of the validator leaks into the document, and every format is a standard one', () => {
    const text = JSON.stringify(document);
    for (const keyword of ['errorMessage', '$id', 'iso-timestamp', 'http-url']) assert.ok(!text.includes(`"${keyword}"`), keyword);
    const formats = new Set([...text.matchAll(/"format":"([^"]+)"/g)].map((m) => m[1]));
    assert.deepEqual([...formats].sort(), ['date', 'date-time', 'email', 'uri']);
  });

  test('the main shapes are named components', () => {
    for (const name of ['Followup', 'CreatedFollowup', 'FollowupCreate', 'FollowupUpdate', 'FollowupChange', 'Debt', 'DebtCreate', 'DebtUpdate',
      'Error', 'TokenError', 'AccessToken', 'Pagination', 'CursorPagination', 'Enums']) {
      assert.ok(document.components.schemas[name], name);
    }
    const create = document.paths[`${API}/followups`]!.post!;
    assert.deepEqual(create.requestBody!.content['application/json']!.schema, { $ref: '#/components/schemas/FollowupCreate' });
  });

  test('list parameters are typed as the server reads them', () => {
    const parameters = Object.fromEntries(document.paths[`${API}/followups`]!.get!.parameters!.map((p) => [p.name, p]));
    assert.deepEqual(parameters.page!.schema, { minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1, type: 'integer' });
    assert.deepEqual(parameters.limit!.schema, { minimum: 1, maximum: 100, default: 20, type: 'integer' });
    assert.deepEqual((parameters.sort!.schema as { enum: string[] }).enum, FOLLOWUP_SORTS);
    assert.equal((parameters.status!.schema as { type: string }).type, 'array');
    assert.equal((parameters.status as { explode?: boolean }).explode, false);
    const debtParameters = document.paths[`${API}/followups/debt/{debtId}`]!.get!.parameters!.map((p) => p.name);
    assert.ok(!debtParameters.includes('debt_id'), 'the path names the debt there');
  });

  test('every schema, parameter and media example is valid against its schema', () => {
    const check = schemaChecker(document);
    const problems: string[] = [];
    let checked = 0;
    const walk = (value: unknown, where: string, schemaLike: boolean) => {
      if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${where}/${i}`, schemaLike));
      if (value === null || typeof value !== 'object') return;
      const node = value as Record<string, unknown>;
      const examples = schemaLike && Array.isArray(node.examples) ? node.examples : [];
      // A parameter, a header or a media type: `example` beside its `schema`.
      if (node.schema && typeof node.schema === 'object' && 'example' in node) examples.push(node.example);
      const target = schemaLike && Array.isArray(node.examples) ? node : (node.schema as object);
      for (const example of examples) {
        checked++;
        for (const error of check(target, example)) problems.push(`${where}: ${JSON.stringify(example)} ${error.instancePath} ${error.message}`);
      }
      for (const [key, item] of Object.entries(node)) {
        if (key === 'examples' || key === 'example' || key === 'enum' || key === 'default') continue;
        walk(item, `${where}/${key}`, schemaLike || key === 'schema' || key === 'schemas');
      }
    };
    walk(document, '#', false);
    assert.ok(checked > 40, `only ${checked} examples checked`);
    assert.deepEqual(problems, []);
  });

  test('each operation asks for the scope the server checks, and public ones for none', async () => {
    const everyScope = await ctx.tenant();
    for (const { method, path, operation } of operations(document)) {
      const url = path.replace(/\{[^}]+\}/g, 'Qd4YaoWAqUqUu-fRwvIWqg');
      const label = `${method.toUpperCase()} ${path}`;
      const send = (headers: Record<string, string>) => ctx.app.inject({ method: method.toUpperCase() as 'GET', url, headers });
      const oauth2 = operation.security?.find((requirement) => 'oauth2' in requirement)?.oauth2;
      if (oauth2 === undefined) {
        // Public, or the OAuth endpoints (client credentials, not a bearer token).
        assert.notEqual((await send({})).headers['www-authenticate'], 'Bearer realm="relance"', label);
        continue;
      }
      assert.deepEqual(operation.security, [{ oauth2 }, { bearer: oauth2 }], label);
      const unauthenticated = await send({});
      assert.equal(unauthenticated.statusCode, 401, label);
      assert.equal(unauthenticated.headers['www-authenticate'], 'Bearer realm="relance"', label);
      if (oauth2.length === 0) {
        assert.notEqual((await send(everyScope.auth)).statusCode, 403, label);
        continue;
      }
      assert.equal(oauth2.length, 1, label);
      const [scope] = oauth2;
      const without = await ctx.tenant(SCOPES.filter((s) => s !== scope));
      const refused = await send(without.auth);
      assert.equal(refused.statusCode, 403, label);
      assert.equal(body(refused).message, `Required scope "${scope}" not found in token`, label);
    }
  });
});

describe('types generated with openapi-typescript', () => {
  test('compile against the README walkthrough requests', { timeout: 120_000 }, async () => {
    await writeFile(join(dir, 'openapi.d.ts'), astToString(await openapiTS(document as never)));
    await writeFile(join(dir, 'readme-requests.ts'), README_REQUESTS);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: [] },
      files: ['readme-requests.ts'],
    }));
    const tsc = join(REPO_ROOT, 'node_modules/.bin/tsc');
    const result = await run(tsc, ['-p', join(dir, 'tsconfig.json')]).catch((error: { stdout?: string; stderr?: string }) => error);
    assert.equal(`${result.stdout ?? ''}${result.stderr ?? ''}`, '');
  });
});

/** The README walkthrough's requests and responses, typed with the generated types. */
const README_REQUESTS = `import type { components, paths } from './openapi.js';

type Schemas = components['schemas'];
type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

const debt: Json<paths['/external-api/v1/debts']['post']['requestBody']> = {
  civility: 'Ms', firstname: 'Jane', lastname: 'Doe', phone: '06 12 34 56 78', country: 'FR', amount: 1250, currency: 'EUR',
  invoice_reference: 'INV-2024-001', due_date: '2024-02-05', metadata: { crm_id: 'C-1042', nested: { segment: 'b2c' } },
};
// @ts-expect-error metadata is a JSON object
const notAnObject: Schemas['DebtCreate'] = { ...debt, metadata: 'b2c' };
const createdDebt: Json<paths['/external-api/v1/debts']['post']['responses'][201]> = {
  error: false, message: 'Debt created successfully',
  data: {
    id: 'Qd4YaoWAqUqUu-fRwvIWqg', status: 'status.default.pending', civility: 'Ms', firstname: 'Jane', lastname: 'Doe', phone: '+33612345678',
    email: null, amount: 1250, amount_text: '1 250,00 €', currency: 'EUR', birthdate: null, object: null, internal_id: null,
    invoice_reference: 'INV-2024-001', debtor_reference: null, invoice_date: null, due_date: '2024-02-05', address: null,
    address_complement: null, zip_code: null, city: null, country: 'FR', iban: null, payment_link: null, metadata: null,
    followups_count: 0, nb_reminders: 0, nb_answered: 0, import_date: '2026-11-25T13:30:49+00:00',
  },
};

type CreateFollowup = paths['/external-api/v1/followups']['post'];
const idempotency: CreateFollowup['parameters']['header'] = { 'Idempotency-Key': 'dialer-7f3a-start' };
const followup: Json<CreateFollowup['requestBody']> = {
  debt_id: createdDebt.data.id, type: 'call', status: 'in_progress', call_id: 'dialer-7f3a', direction: 'outbound',
  phone_number_used: '+33612345678', call_date: '2024-01-25T10:00:00+01:00',
};
const createdFollowup: Json<CreateFollowup['responses'][201]> = {
  error: false, message: 'Followup created successfully',
  data: {
    id: '4fhvfyGsKcsntMeJvlwi-w', debt_id: 'Qd4YaoWAqUqUu-fRwvIWqg', status: 'in_progress', type: 'call', call_date: '2024-01-25T09:00:00+00:00',
    scheduled_at: null, summary: null, notes: null, call_id: 'dialer-7f3a', audio_url: null, pdf_url: null, duration_ms: null,
    disconnection_reason: null, direction: 'outbound', phone_number_used: '+33612345678', is_retry: false, processed_at: '2026-11-25T13:30:49+00:00',
  },
};

type PatchFollowup = paths['/external-api/v1/followups/{id}']['patch'];
const target: PatchFollowup['parameters']['path'] = { id: createdFollowup.data.id };
const outcome: Json<PatchFollowup['requestBody']> = {
  status: 'deal_found', duration_ms: 184000, summary: 'Agreed to pay in 3 instalments', disconnection_reason: 'user_hangup',
};
// @ts-expect-error a followup stays on its debt
const moved: Schemas['FollowupUpdate'] = { debt_id: 'Qd4YaoWAqUqUu-fRwvIWqg' };
const updated: Schemas['Followup'] = {
  ...createdFollowup.data, status: 'deal_found', summary: 'Agreed to pay in 3 instalments', duration_ms: 184000, disconnection_reason: 'user_hangup',
  triggered_payment: false, email_opened: false, email_open_count: 0, email_first_opened_at: null, email_clicked: false, email_click_count: 0,
};

type DebtFollowups = paths['/external-api/v1/followups/debt/{debtId}']['get'];
const byDebt: DebtFollowups['parameters'] = { path: { debtId: createdDebt.data.id }, query: { status: ['deal_found'] } };
const listed: Json<DebtFollowups['responses'][200]> = { error: false, data: [updated], pagination: { total: 1, page: 1, limit: 20, pages: 1 } };
const cursor: Json<paths['/external-api/v1/followups']['get']['responses'][200]>['pagination'] = { limit: 20, next_cursor: null };

type History = paths['/external-api/v1/followups/{id}/history']['get'];
const historyOf: History['parameters'] = { path: { id: createdFollowup.data.id }, query: { page: 1, limit: 20 } };
const history: Json<History['responses'][200]> = {
  error: false,
  data: [{ at: '2026-11-25T13:30:49+00:00', field: 'status', from: 'in_progress', to: 'deal_found', source: 'api:rlc_f48812762a39649f4734ad1e' }],
  pagination: { total: 11, page: 1, limit: 20, pages: 1 },
};
const refused: Json<paths['/external-api/v1/followups/{id}']['get']['responses'][401]> = {
  error: true, message: 'Authentication credentials are missing or invalid', code: 401,
};

export const requests = [notAnObject, idempotency, followup, target, outcome, moved, byDebt, listed, cursor, historyOf, history, refused];
`;
