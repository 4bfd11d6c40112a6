import type { IdCodec } from '../security/encrypted-id.js';
import { formatTimestamp } from '../time/timestamp.js';
import type { PaymentRow } from './repository.js';
import type { Payment } from './schema.js';

export function toPayment(row: PaymentRow, ids: IdCodec): Payment {
  return {
    id: ids.encode('payment', row.id),
    debt_id: ids.encode('debt', row.debt_id),
    // A numeric(14, 2) has at most 14 significant digits: its shortest JSON number is the same decimal.
    amount: Number(row.amount),
    currency: row.currency,
    paid_at: formatTimestamp(row.paid_at),
    reference: row.reference,
    followup_id: row.followup_id === null ? null : ids.encode('followup', row.followup_id),
    created_at: formatTimestamp(row.created_at),
  };
}
