import type { IdCodec } from '../security/encrypted-id.js';
import { formatTimestamp } from '../time/timestamp.js';
import type { EventRow } from './repository.js';

export function toTrackingEvent(row: EventRow, ids: IdCodec) {
  return {
    id: ids.encode('tracking_event', row.id),
    type: row.type,
    occurred_at: formatTimestamp(row.occurred_at),
    machine: row.machine,
    user_agent_class: row.user_agent_class,
    ...(row.url !== null && { url: row.url }),
  };
}
