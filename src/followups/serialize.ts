import type { IdCodec } from '../security/encrypted-id.js';
import { formatNullableTimestamp, formatStoredTimestamp, formatTimestamp } from '../time/timestamp.js';
import { TIMESTAMP_COLUMNS, type ChangeRow, type FollowupRow } from './repository.js';
import type { MediaUrls } from './media.js';
import type { Followup } from './schema.js';

/**
 * The create response's object: exactly the contract example's keys, in its order (the first
 * keys of toFollowup), built directly rather than picked out of the full object.
 */
export function toCreatedFollowup(row: FollowupRow, ids: IdCodec) {
  return {
    id: ids.encode('followup', row.id),
    debt_id: ids.encode('debt', row.debt_id),
    status: row.status,
    type: row.type,
    call_date: formatNullableTimestamp(row.call_date),
    scheduled_at: formatNullableTimestamp(row.scheduled_at),
    summary: row.summary,
    notes: row.notes,
    call_id: row.call_id,
    audio_url: row.audio_url,
    pdf_url: row.pdf_url,
    duration_ms: row.duration_ms,
    disconnection_reason: row.disconnection_reason,
    direction: row.direction,
    phone_number_used: row.phone_number_used,
    is_retry: row.is_retry,
    processed_at: formatTimestamp(row.processed_at),
  } satisfies Partial<Followup>;
}

/**
 * The API object of a followup row: the create response's keys, then the tracking and payment
 * ones, in the schema's order (replacing a key keeps its place). `media` are the URLs to show
 * (media.ts signs those of stored files); without it, the URLs as stored.
 */
export function toFollowup(row: FollowupRow, ids: IdCodec, media?: MediaUrls): Followup {
  return {
    ...toCreatedFollowup(row, ids),
    ...(media && { audio_url: media.audio_url, pdf_url: media.pdf_url }),
    triggered_payment: row.triggered_payment,
    email_opened: row.email_opened,
    email_open_count: row.email_open_count,
    email_first_opened_at: formatNullableTimestamp(row.email_first_opened_at),
    email_clicked: row.email_clicked,
    email_click_count: row.email_click_count,
    ...(media?.media_urls_expire_at && { media_urls_expire_at: media.media_urls_expire_at }),
  };
}

/** A history entry; timestamp values are shown in the API's format, as on the followup. */
export function toChange(row: ChangeRow) {
  const value = (v: unknown) => (TIMESTAMP_COLUMNS.has(row.field) && typeof v === 'string' ? formatStoredTimestamp(v) : v ?? null);
  return { at: formatTimestamp(row.at), field: row.field, from: value(row.from_value), to: value(row.to_value), source: row.source };
}
