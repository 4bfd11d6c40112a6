import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { DEFAULT_RATE_LIMITS, type MediaSettings, type RateLimitSettings } from '../../src/config.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { createClient } from '../../src/auth/client-service.js';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';
import { insertCompany } from '../../src/companies/repository.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { createDebt } from '../../src/debts/service.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import { deriveKeys, type Keys } from '../../src/security/keys.js';
import type { WebhookUrlRules } from '../../src/webhooks/rules.js';
import { testStore } from './storage.js';

export const API = '/external-api/v1';

/**
 * Budgets no test reaches by accident: tests make many requests with one client, from one
 * address. The rate-limit tests set small ones on purpose (test/rate-limit/).
 */
export const GENEROUS_RATE_LIMITS: RateLimitSettings = {
  ...DEFAULT_RATE_LIMITS, reads: 1_000_000_000, writes: 1_000_000_000,
  token: { ...DEFAULT_RATE_LIMITS.token, perClient: 1_000_000_000, perAddress: 1_000_000_000 },
};

export interface Tenant {
  companyId: number;
  clientId: string;
  clientSecret: string;
  token: string;
  /** Authorization header for this tenant's token. */
  auth: { authorization: string };
  /** Creates a debt of this company and returns its encrypted id. */
  debt(): Promise<string>;
  /** Creates a followup on the debt, through the API, and returns its encrypted id. */
  followup(debtId: string): Promise<string>;
}

export interface TestContext {
  app: FastifyInstance;
  pool: Pool;
  keys: Keys;
  ids: IdCodec;
  /** The app's store: a local one in a folder of this test file's own, signing for http://localhost. */
  storage: BlobStore;
  /** A fresh company with one API client holding `scopes` (default: all) and a token for them. */
  tenant(scopes?: readonly Scope[]): Promise<Tenant>;
}

/**
 * Builds the real app on the test database (TEST_DATABASE_URL, provisioned by test/run.ts) and
 * closes it when the file's tests end. Every tenant is new, so tests never share data. `media`
 * sets the upload limit and the life of signed links (defaults: MEDIA_MAX_BYTES, MEDIA_URL_TTL_SECONDS);
 * `databaseUrl` a database of the file's own (migrated), `webhooks` what subscription URLs may be,
 * `rateLimits` the budgets (default: GENEROUS_RATE_LIMITS).
 */
export async function setup(
  options: { media?: MediaSettings; storage?: BlobStore; databaseUrl?: string; webhooks?: WebhookUrlRules; rateLimits?: RateLimitSettings } = {},
): Promise<TestContext> {
  const url = options.databaseUrl ?? process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm test`');
  const pool = createPool(url, 5);
  const keys = deriveKeys(randomBytes(32));
  const storage = options.storage ?? (await testStore(keys));
  const app = await buildApp({
    pool, keys, logger: pino({ level: 'silent' }), storage, rateLimits: options.rateLimits ?? GENEROUS_RATE_LIMITS,
    ...(options.media && { media: options.media }), ...(options.webhooks && { webhooks: options.webhooks }),
  });
  await app.ready();
  after(async () => {
    await app.close();
    await pool.end();
  });
  const ids = new IdCodec(keys.ids);

  const tenant = async (scopes: readonly Scope[] = SCOPES): Promise<Tenant> => {
    const company = await insertCompany(`Company ${randomBytes(3).toString('hex')}`, pool);
    const client = await createClient(company.id, { scopes: [...scopes] }, keys.secrets, pool);
    const response = await app.inject({
      method: 'POST',
      url: '/token',
      payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret },
    });
    if (response.statusCode !== 200) throw new Error(`token request failed: ${response.body}`);
    const token = response.json<{ access_token: string }>().access_token;
    return {
      companyId: company.id,
      clientId: client.client_id,
      clientSecret: client.client_secret,
      token,
      auth: { authorization: `Bearer ${token}` },
      debt: async () => {
        const body = { firstname: 'Jane', lastname: 'Doe', email: 'jane@example.com', amount: 100, currency: 'EUR' };
        const debt = await createDebt(company.id, { body, problems: {} }, pool);
        return ids.encode('debt', debt.id);
      },
      followup: async (debtId) => {
        const created = await app.inject({ method: 'POST', url: `${API}/followups`, headers: { authorization: `Bearer ${token}` }, payload: { debt_id: debtId } });
        if (created.statusCode !== 201) throw new Error(`followup create failed: ${created.body}`);
        return created.json<{ data: { id: string } }>().data.id;
      },
    };
  };

  return { app, pool, keys, ids, storage, tenant };
}

export type Response = LightMyRequestResponse;

/** The parsed JSON body of a response, typed loosely for assertions. */
export function body(response: Response): any {
  return response.json();
}
