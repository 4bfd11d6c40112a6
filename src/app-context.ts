import type { Logger } from 'pino';
import { TokenSealer } from './auth/access-token.js';
import { ClientStates } from './auth/client-states.js';
import { TokenVerifier } from './auth/token-verifier.js';
import type { Pool } from './db/pool.js';
import type { Metrics } from './ops/metrics.js';
import { IdCodec } from './security/encrypted-id.js';
import type { Keys } from './security/keys.js';
import type { BlobStore } from './storage/blob-store.js';
import type { WebhookUrlRules } from './webhooks/rules.js';

/**
 * What every feature plugin is given, built once per app: register a plugin with it and read
 * what the feature needs (`async (app, { pool, ids, tokens }) => …`). A new shared part (storage,
 * a mailer) is added here once instead of to each feature's options.
 */
export interface AppContext {
  pool: Pool;
  keys: Keys;
  log: Logger;
  /** Public ids, encrypted. */
  ids: IdCodec;
  /** Seals and opens access tokens (AES-256-GCM). */
  sealer: TokenSealer;
  /** What this process knows of each API client's state. */
  clientStates: ClientStates;
  /** Checks bearer tokens: seal, then client state. */
  tokens: TokenVerifier;
  /** Base URL the tracking pixel and links are served under, without a trailing slash. */
  publicUrl: string;
  /** Days before a payment in which a human click attributes it (PAYMENT_ATTRIBUTION_DAYS). */
  paymentAttributionDays: number;
  /** Recordings and PDFs: a local folder or an S3 bucket (src/storage/). */
  storage: BlobStore;
  /** Uploads and signed links of followup files. */
  media: MediaContext;
  /** What subscription URLs may be (WEBHOOK_ALLOW_HTTP, OUTBOUND_ALLOW). */
  webhooks: WebhookUrlRules;
  /** Prometheus metrics of this app: features count through its methods (src/ops/metrics.ts). */
  metrics: Metrics;
}

export interface MediaContext {
  /** Largest upload or download (MEDIA_MAX_BYTES). */
  maxBytes: number;
  /** How long a signed media URL is valid (MEDIA_URL_TTL_SECONDS). */
  urlTtlSeconds: number;
  /** URLs of files Relance serves itself start with this: never downloaded into storage again. */
  ownUrlPrefix: string | undefined;
}

/** What the context is built from, beside the pool, the keys and the logger. */
export type ContextSettings = Pick<AppContext, 'publicUrl' | 'paymentAttributionDays' | 'storage' | 'media' | 'webhooks' | 'metrics'> & {
  clientStateTtlMs: number;
};

export function createAppContext(pool: Pool, keys: Keys, log: Logger, settings: ContextSettings): AppContext {
  const sealer = new TokenSealer(keys.tokens);
  const clientStates = new ClientStates(pool, settings.clientStateTtlMs, log);
  return {
    pool, keys, log, ids: new IdCodec(keys.ids), sealer, clientStates, tokens: new TokenVerifier(sealer, clientStates),
    publicUrl: settings.publicUrl, paymentAttributionDays: settings.paymentAttributionDays, storage: settings.storage, media: settings.media,
    webhooks: settings.webhooks,
    metrics: settings.metrics,
  };
}
