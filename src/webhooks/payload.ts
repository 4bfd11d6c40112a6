import type { MediaContext } from '../app-context.js';
import type { Queryable } from '../db/pool.js';
import { findDebt, type DebtRow } from '../debts/repository.js';
import { toDebt } from '../debts/serialize.js';
import { followupPresenter } from '../followups/media.js';
import type { FollowupRow } from '../followups/repository.js';
import type { PaymentRow } from '../payments/repository.js';
import { toPayment } from '../payments/serialize.js';
import type { IdCodec, IdType } from '../security/encrypted-id.js';
import type { BlobStore } from '../storage/blob-store.js';
import { formatStoredTimestamp, formatTimestamp } from '../time/timestamp.js';

/** What rendering an event needs: ids to encrypt, and the store that signs a followup's file URLs. */
export interface RenderDeps {
  ids: IdCodec;
  storage: BlobStore;
  media: MediaContext;
}

/** What the outbox keeps of an event. */
export interface StoredEvent {
  event_id: number;
  company_id: number;
  type: string;
  subject_type: string;
  subject_id: number;
  snapshot: Record<string, unknown>;
  changes: Record<string, { from: unknown; to: unknown }> | null;
  event_created_at: Date;
}

/** Timestamp columns of each subject's row: strings in the jsonb snapshot, Dates for the serializers. */
const TIMESTAMPS: Record<string, readonly string[]> = {
  followup: ['call_date', 'scheduled_at', 'processed_at', 'email_first_opened_at', 'created_at', 'updated_at', 'activity_at'],
  debt: ['created_at', 'updated_at'],
  payment: ['paid_at', 'created_at'],
  webhook: [],
};
/** Columns holding the internal id of another object, and its kind. */
const REFERENCES: Record<string, IdType> = { debt_id: 'debt', followup_id: 'followup' };

/**
 * The body of an event, the same bytes on every attempt but for freshly signed file URLs:
 * `{"id", "type", "created_at", "data", "changes"?}`. `data` is the subject as the API shows it
 * (the object GET returns), rendered from the row as it was stored by the change; `changes` has
 * the history's format (timestamps in the API's format, ids encrypted).
 */
export async function renderBody(event: StoredEvent, deps: RenderDeps, db: Queryable): Promise<string> {
  const data = await renderData(event, deps, db);
  return JSON.stringify({
    id: deps.ids.encode('webhook_event', event.event_id),
    type: event.type,
    created_at: formatTimestamp(event.event_created_at),
    data,
    ...(event.changes && { changes: renderChanges(event.subject_type, event.changes, deps.ids) }),
  });
}

async function renderData(event: StoredEvent, deps: RenderDeps, db: Queryable): Promise<unknown> {
  const row = withDates(event.subject_type, event.snapshot);
  switch (event.subject_type) {
    case 'followup':
      return followupPresenter(deps)(row as unknown as FollowupRow);
    case 'debt':
      return toDebt({ ...(row as unknown as DebtRow), ...(await debtCounts(event, row, db)) }, deps.ids);
    case 'payment':
      return toPayment(row as unknown as PaymentRow, deps.ids);
    case 'webhook':
      return { webhook_id: deps.ids.encode('webhook', event.subject_id), message: String(event.snapshot.message ?? '') };
    default:
      throw new Error(`no rendering for events about a ${event.subject_type}`);
  }
}

/**
 * A debt's followup counts are not columns of its row: the snapshot's when the change put them
 * there, else the debt's counts now (none for a deleted debt: its followups went with it).
 */
async function debtCounts(event: StoredEvent, row: Record<string, unknown>, db: Queryable) {
  if (typeof row.followups_count === 'number') return {};
  const lookup = await findDebt(event.company_id, event.subject_id, db);
  const found = lookup && 'found' in lookup ? lookup.found : undefined;
  return { followups_count: found?.followups_count ?? 0, nb_reminders: found?.nb_reminders ?? 0, nb_answered: found?.nb_answered ?? 0 };
}

function withDates(subjectType: string, snapshot: Record<string, unknown>): Record<string, unknown> {
  const row = { ...snapshot };
  for (const column of TIMESTAMPS[subjectType] ?? []) {
    const value = row[column];
    if (typeof value === 'string') row[column] = new Date(value);
  }
  return row;
}

function renderChanges(subjectType: string, changes: Record<string, { from: unknown; to: unknown }>, ids: IdCodec) {
  const timestamps = new Set(TIMESTAMPS[subjectType] ?? []);
  const value = (field: string, v: unknown) => {
    if (typeof v === 'string' && timestamps.has(field)) return formatStoredTimestamp(v);
    if (typeof v === 'number' && Object.hasOwn(REFERENCES, field)) return ids.encode(REFERENCES[field]!, v);
    return v ?? null;
  };
  return Object.fromEntries(Object.entries(changes).map(([field, change]) => [field, { from: value(field, change?.from), to: value(field, change?.to) }]));
}
