import type { Queryable } from '../db/pool.js';
import type { SubjectType, WebhookEvent } from './events.js';

/** A field's value before and after a change, as stored (the history's values). */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/**
 * Writes the events of a change into the outbox (SQL function `relance_emit`, migration 0015)
 * in `db`, which must be the transaction (or statement) of the change itself: the events exist
 * if and only if it commits. Only events some active subscription of the company wants are
 * written; each gets a delivery per such subscription and wakes its deliverer. `snapshot` is
 * the changed row as stored; deliveries render it in the API's format.
 *
 * Statements that change a followup call `relance_emit` themselves (followups/repository.ts):
 * the change, its history and its events in one round trip.
 */
export async function emitEvents(
  db: Queryable,
  companyId: number,
  types: readonly WebhookEvent[],
  subject: { type: SubjectType; id: number },
  snapshot: object,
  changes?: FieldChanges,
): Promise<void> {
  if (types.length === 0) return;
  await db.query('SELECT relance_emit($1, $2::text[], $3, $4, $5::jsonb, $6::jsonb)', [
    companyId, types, subject.type, subject.id, JSON.stringify(snapshot), changes ? JSON.stringify(changes) : null,
  ]);
}
