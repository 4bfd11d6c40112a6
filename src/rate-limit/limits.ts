import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { RateLimitSettings } from '../config.js';
import { limitApiRequests } from './api-limits.js';
import type { Bucket } from './budget.js';
import { MemoryCounterStore, type CounterStore } from './counter-store.js';
import { RedisCounterStore } from './redis-store.js';
import { limitTokenRequests } from './token-limits.js';

export type { Bucket } from './budget.js';

export interface RateLimitOptions {
  settings: RateLimitSettings;
  /** The API's base path: requests under it with a valid token are counted against their client's budget. */
  apiPrefix: string;
  tokens: TokenVerifier;
  log: Logger;
  /** Called for every request refused with 429 for its budget (a metrics counter, say). */
  onRejected?: (bucket: Bucket) => void;
}

/**
 * Rate limits (SPEC §10): per-client hourly budgets on the API and budgets of attempts on the
 * token endpoints, counted in this process's memory, or in Redis (REDIS_URL) so that several
 * processes share them. Installed before the routes, so that its hooks run before theirs.
 */
export async function installRateLimits(app: FastifyInstance, { settings, apiPrefix, tokens, log, onRejected }: RateLimitOptions): Promise<void> {
  const memory = new MemoryCounterStore();
  const store: CounterStore = settings.redisUrl ? await RedisCounterStore.open(settings.redisUrl, settings.redisTimeoutMs, memory, log) : memory;
  app.addHook('onClose', () => store.close());
  limitApiRequests(app, { prefix: apiPrefix, tokens, store, settings, onRejected });
  limitTokenRequests(app, { store, settings: settings.token, onRejected });
}
