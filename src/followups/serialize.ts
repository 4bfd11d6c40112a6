import type { IdCodec } from '../security/encrypted-id.js';
import { formatNullableTimestamp, formatTimestamp } from '../time/timestamp.js';
import type { FollowupRow } from './repository.js';
import type { Followup } from './schema.js';

/** The API object of a followup row. Serialization keeps the schema's key order. */
export function toFollowup(row: FollowupRow, ids: IdCodec): Followup {
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
    // Stored media are served through pre-signed URLs once media storage exists; until a
    // recording is stored, the URL is returned as given and no expiry is announced.
    audio_url: row.audio_url,
    pdf_url: row.pdf_url,
    duration_ms: row.duration_ms,
    disconnection_reason: row.disconnection_reason,
    direction: row.direction,
    phone_number_used: row.phone_number_used,
    is_retry: row.is_retry,
    processed_at: formatTimestamp(row.processed_at),
    triggered_payment: row.triggered_payment,
    email_opened: row.email_opened,
    email_open_count: row.email_open_count,
    email_first_opened_at: formatNullableTimestamp(row.email_first_opened_at),
    email_clicked: row.email_clicked,
    email_click_count: row.email_click_count,
  };
}
