import type { IdCodec } from '../security/encrypted-id.js';
import { formatNullableTimestamp, formatTimestamp } from '../time/timestamp.js';
import type { AttemptRow, DeliveryRow, SubscriptionRow } from './repository.js';
import type { Delivery, Webhook, WebhookWithSecret } from './schema.js';

/** A subscription as the API shows it: never its secret. */
export function toWebhook(row: SubscriptionRow, ids: IdCodec, now = new Date()): Webhook {
  const overlapEnds = row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now ? row.previous_secret_expires_at : null;
  return {
    id: ids.encode('webhook', row.id),
    url: row.url,
    events: row.events,
    description: row.description,
    status: row.status,
    disabled_reason: row.disabled_reason,
    failing_since: formatNullableTimestamp(row.failing_since),
    previous_secret_expires_at: formatNullableTimestamp(overlapEnds),
    created_at: formatTimestamp(row.created_at),
    updated_at: formatTimestamp(row.updated_at),
  };
}

/** The response of a create or a rotation, the only two that show the secret. */
export function toWebhookWithSecret(row: SubscriptionRow, secret: string, ids: IdCodec): WebhookWithSecret {
  return { ...toWebhook(row, ids), secret };
}

export function toDelivery(row: DeliveryRow, attempts: readonly AttemptRow[], ids: IdCodec): Delivery {
  return {
    id: ids.encode('webhook_delivery', row.id),
    event_id: ids.encode('webhook_event', row.event_id),
    event_type: row.event_type,
    status: row.status,
    attempts: row.attempts,
    last_status_code: row.last_status_code,
    last_duration_ms: row.last_duration_ms,
    last_error: row.last_error,
    last_attempt_at: formatNullableTimestamp(row.last_attempt_at),
    next_attempt_at: row.status === 'pending' ? formatNullableTimestamp(row.next_attempt_at) : null,
    delivered_at: formatNullableTimestamp(row.delivered_at),
    created_at: formatTimestamp(row.created_at),
    attempt_log: attempts.map((attempt) => ({
      attempted_at: formatTimestamp(attempt.attempted_at),
      status_code: attempt.status_code,
      duration_ms: attempt.duration_ms,
      error: attempt.error,
    })),
  };
}
