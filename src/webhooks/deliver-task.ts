import { performance } from 'node:perf_hooks';
import type { Task } from 'graphile-worker';
import type { WebhookSettings } from '../config.js';
import type { Queryable } from '../db/pool.js';
import { OutboundError, outboundRequest, type AllowList, type Lookup } from '../net/outbound.js';
import { renderBody, type RenderDeps } from './payload.js';
import { nextDueAt, recordFailure, recordSuccess, takeDueDelivery, wakeDeliverer, type DueDelivery } from './repository.js';
import { openSecret, signatureHeaders } from './secrets.js';

export { DELIVER_TASK } from './repository.js';

/** How an attempt ended, for metrics. */
export type DeliveryOutcome = 'delivered' | 'http_error' | 'timeout' | 'network' | 'blocked';

export interface WebhookDeps extends RenderDeps {
  /** keys.webhooks: opens the signing secrets. */
  sealKey: Buffer;
  /** Private destinations deliveries may reach (OUTBOUND_ALLOW; tests only). */
  allow: AllowList;
  /** Timeout, backoff, retry window, disabling (WEBHOOK_*). */
  delivery: Omit<WebhookSettings, 'allowHttp'>;
  /** Called once per attempt, after its outcome is committed. */
  onDelivery?: (outcome: DeliveryOutcome) => void;
  /** How host names are resolved (tests make a name resolve to a private address). */
  lookup?: Lookup;
}

/** Bounds of one run: the job is added again for what is left, so one busy subscription cannot hold a worker slot for ever. */
const MAX_PER_RUN = 100;
const MAX_RUN_MS = 60_000;
/** A due delivery this run could not take is being sent by another: look again after this. */
const RECHECK_MS = 2_000;
const MAX_BACKOFF_MS = 3_600_000;
/** Of a receiver's answer, no more is read than this (then the connection is dropped). */
const RESPONSE_READ_BYTES = 4_096;
const USER_AGENT = 'Relance-Webhooks/1';
/** Beyond the send timeout, what the transaction of an attempt may stay idle (reading the answer's end, rendering). */
const IDLE_MARGIN_MS = 15_000;

/**
 * Delivers the due events of one subscription (payload `{subscription_id}`), one delivery per
 * transaction: the delivery is taken FOR UPDATE SKIP LOCKED, sent while its row stays locked,
 * and its outcome committed with it. A worker killed mid-send loses its lock with its connection,
 * and the delivery is sent again by the next run: at least once, never lost. Harmless to run
 * twice, or in two workers at once: each delivery is taken by one transaction at a time.
 */
export function deliverWebhooks(deps: WebhookDeps): Task {
  return async (payload, helpers) => {
    const subscriptionId = Number((payload as { subscription_id?: unknown } | null)?.subscription_id);
    if (!Number.isSafeInteger(subscriptionId)) return;
    const started = Date.now();
    let sent = 0;
    for (;;) {
      if (sent >= MAX_PER_RUN || Date.now() - started >= MAX_RUN_MS) {
        await helpers.withPgClient((client: Queryable) => wakeDeliverer(subscriptionId, client));
        return;
      }
      const outcome = await helpers.withPgClient((client: Queryable) => deliverNext(client, subscriptionId, deps));
      if (!outcome) break;
      deps.onDelivery?.(outcome);
      sent++;
    }
    await helpers.withPgClient(async (client: Queryable) => {
      const next = await nextDueAt(subscriptionId, RECHECK_MS, client);
      if (next) await wakeDeliverer(subscriptionId, client, next);
    });
  };
}

/** Sends the next due delivery and commits its outcome; undefined when none is due. */
async function deliverNext(client: Queryable, subscriptionId: number, deps: WebhookDeps): Promise<DeliveryOutcome | undefined> {
  await client.query('BEGIN');
  try {
    // The transaction waits, idle, while the receiver answers: the session's own idle limit
    // (DATABASE limits, one minute) must not end it first, or the outcome of a slow attempt would
    // never be committed and the delivery would be sent again and again, never logged.
    await client.query("SELECT set_config('idle_in_transaction_session_timeout', $1, true)", [String(deps.delivery.timeoutMs + IDLE_MARGIN_MS)]);
    const delivery = await takeDueDelivery(subscriptionId, client);
    if (!delivery) {
      await client.query('COMMIT');
      return undefined;
    }
    const body = await renderBody(delivery, deps, client);
    const result = await send(delivery, body, deps);
    if (result.outcome === 'delivered') {
      await recordSuccess(delivery, result, client);
    } else {
      const retryInMs = backoff(deps.delivery.retryBaseMs, delivery.attempts);
      await recordFailure(delivery, result, { retryInMs, windowMs: deps.delivery.retryWindowMs, disableAfterMs: deps.delivery.disableAfterMs }, client);
    }
    await client.query('COMMIT');
    return result.outcome;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Exponential backoff with equal jitter: base × 2^(attempts before this one), capped at an hour,
 * of which a random half is waited beyond the first half (receivers recovering from an outage are
 * not all called back at once, and no retry comes sooner than half the step).
 */
export function backoff(baseMs: number, previousAttempts: number, random = Math.random): number {
  const step = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(previousAttempts, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

type Result = { startedAt: Date; durationMs: number; statusCode: number | null } & (
  | { outcome: 'delivered' }
  | { outcome: Exclude<DeliveryOutcome, 'delivered'>; error: string }
);

async function send(delivery: DueDelivery, body: string, deps: WebhookDeps): Promise<Result> {
  const secrets = [delivery.secret, delivery.previous_secret].filter((s): s is Buffer => s !== null).map((s) => openSecret(deps.sealKey, s));
  const eventId = deps.ids.encode('webhook_event', delivery.event_id);
  const startedAt = new Date();
  const start = performance.now();
  const elapsed = () => Math.round(performance.now() - start);
  try {
    const response = await outboundRequest(delivery.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signatureHeaders(secrets, eventId, body, startedAt) },
      body,
      timeoutMs: deps.delivery.timeoutMs,
      // A receiver that redirects has moved: its owner updates the subscription.
      maxRedirects: 0,
      // The answer is not used; a large one is cut short below rather than refused.
      maxBytes: Number.MAX_SAFE_INTEGER,
      allow: deps.allow,
      ...(deps.lookup && { lookup: deps.lookup }),
    });
    await discard(response.body);
    return { outcome: 'delivered', startedAt, durationMs: elapsed(), statusCode: response.status };
  } catch (error) {
    return { ...failure(error, new URL(delivery.url).host), startedAt, durationMs: elapsed() };
  }
}

/** Reads at most a few KB of the answer, then drops it; a receiver failing mid-body has still answered 2xx. */
async function discard(body: NodeJS.ReadableStream & { destroy(): void }): Promise<void> {
  let read = 0;
  try {
    for await (const chunk of body) {
      read += (chunk as Buffer).length;
      if (read >= RESPONSE_READ_BYTES) break;
    }
  } catch {
    // the status was 2xx: delivered
  } finally {
    body.destroy();
  }
}

function failure(error: unknown, host: string): { outcome: Exclude<DeliveryOutcome, 'delivered'>; error: string; statusCode: number | null } {
  if (!(error instanceof OutboundError)) return { outcome: 'network', error: `The request to ${host} failed`, statusCode: null };
  switch (error.reason) {
    case 'http_status':
      return { outcome: 'http_error', error: error.message, statusCode: error.status ?? null };
    case 'too_many_redirects':
      return { outcome: 'http_error', error: `${host} answered HTTP ${error.status ?? '3xx'} (a redirect): deliveries do not follow redirects`, statusCode: error.status ?? null };
    case 'timeout':
      return { outcome: 'timeout', error: error.message, statusCode: null };
    case 'blocked_address':
    case 'invalid_url':
      return { outcome: 'blocked', error: error.message, statusCode: null };
    default:
      return { outcome: 'network', error: error.message, statusCode: null };
  }
}
