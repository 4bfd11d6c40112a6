import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import pino from 'pino';
import { DEFAULT_MEDIA, DEFAULT_WEBHOOKS, type DatabaseLimits, type WebhookSettings } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { AllowList } from '../../src/net/allow-list.js';
import { IdCodec } from '../../src/security/encrypted-id.js';
import type { Keys } from '../../src/security/keys.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import type { DeliveryOutcome, WebhookDeps } from '../../src/webhooks/deliver-task.js';
import { emitEvents, type FieldChanges } from '../../src/webhooks/outbox.js';
import type { WebhookEvent } from '../../src/webhooks/events.js';
import { freshDatabase } from './database.js';
import { API, body, setup, type Tenant, type TestContext } from './setup.js';
import { ownWorker } from './worker.js';

/** What the receivers here are: plain http on loopback, as WEBHOOK_ALLOW_HTTP=true and OUTBOUND_ALLOW=127.0.0.1 allow. */
export const LOOPBACK_RULES = { allowHttp: true, allow: AllowList.parse('127.0.0.1').allow };

/**
 * The app on a database of this file's own: the workers other test files run on the shared
 * database would otherwise take these deliveries, with their own settings.
 */
export async function webhookSetup(): Promise<TestContext & { url: string }> {
  const url = await freshDatabase();
  const pool = createPool(url, 2);
  await migrate(pool);
  await pool.end();
  return { ...(await setup({ databaseUrl: url, webhooks: LOOPBACK_RULES })), url };
}

/** The webhook part of a worker's dependencies, as the process worker builds it. */
export function webhookDeps(keys: Keys, storage: BlobStore, delivery: Partial<Omit<WebhookSettings, 'allowHttp'>> = {}, extra: Partial<WebhookDeps> = {}): WebhookDeps {
  const { allowHttp: _allowHttp, ...defaults } = DEFAULT_WEBHOOKS;
  return {
    ids: new IdCodec(keys.ids), sealKey: keys.webhooks, storage, media: { ...DEFAULT_MEDIA, ownUrlPrefix: undefined },
    allow: LOOPBACK_RULES.allow, delivery: { ...defaults, ...delivery }, ...extra,
  };
}

/** A worker on a pool of its own, delivering with these settings; every outcome is counted. Stopped after the file's tests. */
export async function deliveryWorker(
  ctx: TestContext & { url: string }, delivery: Partial<Omit<WebhookSettings, 'allowHttp'>> = {}, extra: Partial<WebhookDeps> = {},
  database: Partial<DatabaseLimits> = {},
) {
  const outcomes: DeliveryOutcome[] = [];
  const { pool, stop } = await ownWorker(ctx.url, 6, pino({ level: 'silent' }), { concurrency: 3, purgeSchedule: '0 0 1 1 *' }, {
    storage: ctx.storage, maxBytes: 1024 * 1024, allow: AllowList.EMPTY, timeoutMs: 5_000,
    webhooks: webhookDeps(ctx.keys, ctx.storage, delivery, { onDelivery: (outcome) => outcomes.push(outcome), ...extra }),
  }, database);
  return { outcomes, stop, pool };
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  raw: string;
  json: any;
  at: number;
}

/** How the receiver answers a request; the default answers 200. */
export type Behaviour = (request: Received, response: ServerResponse) => void;

/** A webhook receiver on 127.0.0.1: keeps every request it got, answers as `behave` says. */
export async function receiver(): Promise<{ url: string; port: number; received: Received[]; behave: (b: Behaviour) => void; close: () => Promise<void> }> {
  const received: Received[] = [];
  let behaviour: Behaviour = (_request, response) => response.end('ok');
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        json = undefined;
      }
      const entry = { path: request.url ?? '/', headers: request.headers, raw, json, at: Date.now() };
      received.push(entry);
      behaviour(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = () => {
    if (closed) return Promise.resolve();
    closed = true;
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  after(close);
  return { url: `http://127.0.0.1:${port}/hook`, port, received, behave: (b) => { behaviour = b; }, close };
}

/** Request helpers for /webhooks. */
export function webhookClient(ctx: TestContext) {
  const json = (tenant: Tenant) => ({ ...tenant.auth, 'content-type': 'application/json' });
  return {
    create: (tenant: Tenant, payload: unknown) => ctx.app.inject({ method: 'POST', url: `${API}/webhooks`, headers: json(tenant), payload: JSON.stringify(payload) }),
    /** A subscription (201 asserted by the caller's use of the body): its id and secret. */
    created: async (tenant: Tenant, payload: Record<string, unknown>): Promise<{ id: string; secret: string }> => {
      const response = await ctx.app.inject({ method: 'POST', url: `${API}/webhooks`, headers: json(tenant), payload: JSON.stringify(payload) });
      if (response.statusCode !== 201) throw new Error(`webhook create failed: ${response.body}`);
      return body(response).data;
    },
    get: (tenant: Tenant, id: string) => ctx.app.inject({ method: 'GET', url: `${API}/webhooks/${id}`, headers: tenant.auth }),
    list: (tenant: Tenant, query = '') => ctx.app.inject({ method: 'GET', url: `${API}/webhooks${query}`, headers: tenant.auth }),
    patch: (tenant: Tenant, id: string, payload: unknown) =>
      ctx.app.inject({ method: 'PATCH', url: `${API}/webhooks/${id}`, headers: json(tenant), payload: JSON.stringify(payload) }),
    delete: (tenant: Tenant, id: string) => ctx.app.inject({ method: 'DELETE', url: `${API}/webhooks/${id}`, headers: tenant.auth }),
    rotate: (tenant: Tenant, id: string, payload?: unknown) => ctx.app.inject({
      method: 'POST', url: `${API}/webhooks/${id}/rotate-secret`,
      headers: payload === undefined ? tenant.auth : json(tenant), ...(payload !== undefined && { payload: JSON.stringify(payload) }),
    }),
    deliveries: (tenant: Tenant, id: string, query = '') => ctx.app.inject({ method: 'GET', url: `${API}/webhooks/${id}/deliveries${query}`, headers: tenant.auth }),
    delivery: (tenant: Tenant, id: string, delivery: string) =>
      ctx.app.inject({ method: 'GET', url: `${API}/webhooks/${id}/deliveries/${delivery}`, headers: tenant.auth }),
    retry: (tenant: Tenant, id: string, delivery: string) =>
      ctx.app.inject({ method: 'POST', url: `${API}/webhooks/${id}/deliveries/${delivery}/retry`, headers: tenant.auth }),
    test: (tenant: Tenant, id: string) => ctx.app.inject({ method: 'POST', url: `${API}/webhooks/${id}/test`, headers: tenant.auth }),
  };
}

