import type { IdCodec } from '../security/encrypted-id.js';
import { formatTimestamp } from '../time/timestamp.js';
import { formatAmount } from './currencies.js';
import type { DebtRow } from './repository.js';
import type { Debt } from './schema.js';

/** The API object of a debt row, keys in the schema's order. */
export function toDebt(row: DebtRow, ids: IdCodec): Debt {
  const amount = Number(row.amount);
  return {
    id: ids.encode('debt', row.id),
    status: row.status,
    civility: row.civility,
    firstname: row.firstname,
    lastname: row.lastname,
    phone: row.phone,
    email: row.email,
    amount,
    amount_text: formatAmount(amount, row.currency),
    currency: row.currency,
    birthdate: row.birthdate,
    object: row.object,
    internal_id: row.internal_id,
    invoice_reference: row.invoice_reference,
    debtor_reference: row.debtor_reference,
    invoice_date: row.invoice_date,
    due_date: row.due_date,
    address: row.address,
    address_complement: row.address_complement,
    zip_code: row.zip_code,
    city: row.city,
    country: row.country,
    iban: row.iban,
    payment_link: row.payment_link,
    metadata: row.metadata,
    followups_count: row.followups_count,
    nb_reminders: row.nb_reminders,
    nb_answered: row.nb_answered,
    import_date: formatTimestamp(row.created_at),
  };
}
