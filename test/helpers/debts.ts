import type { TestContext } from './setup.js';
import { API } from './setup.js';
import { sendJson, type Auth } from './requests.js';

/** A minimal valid create body. */
export const VALID_DEBT = { firstname: 'Jane', lastname: 'Doe', email: 'jane@example.com', amount: 1250, currency: 'EUR' };

export const DEBT_KEYS = [
  'id', 'status', 'civility', 'firstname', 'lastname', 'phone', 'email', 'amount', 'amount_text', 'currency', 'birthdate',
  'object', 'internal_id', 'invoice_reference', 'debtor_reference', 'invoice_date', 'due_date', 'address',
  'address_complement', 'zip_code', 'city', 'country', 'iban', 'payment_link', 'metadata', 'followups_count',
  'nb_reminders', 'nb_answered', 'import_date',
];

/** HTTP calls of the debts API (and the followup create that debts' tests need). */
export function debtClient(ctx: TestContext) {
  return {
    create: (auth: Auth, payload: unknown) => sendJson(ctx, 'POST', '/debts', auth, payload),
    get: (auth: Auth, id: string) => ctx.app.inject({ method: 'GET', url: `${API}/debts/${encodeURIComponent(id)}`, headers: auth }),
    list: (auth: Auth, query = '') => ctx.app.inject({ method: 'GET', url: `${API}/debts${query}`, headers: auth }),
    update: (auth: Auth, id: string, payload: unknown, method: 'PUT' | 'PATCH' = 'PATCH') =>
      sendJson(ctx, method, `/debts/${encodeURIComponent(id)}`, auth, payload),
    remove: (auth: Auth, id: string) => ctx.app.inject({ method: 'DELETE', url: `${API}/debts/${encodeURIComponent(id)}`, headers: auth }),
    createFollowup: (auth: Auth, payload: unknown) => sendJson(ctx, 'POST', '/followups', auth, payload),
  };
}
