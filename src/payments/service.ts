import { transaction, type Pool, type Queryable } from '../db/pool.js';
import { debtOwnership, lockDebt, type StoredDebt } from '../debts/repository.js';
import { changeDebt } from '../debts/service.js';
import { emitEvents } from '../webhooks/outbox.js';
import { findFollowup, updateFollowup } from '../followups/repository.js';
import type { ErrorDetails } from '../http/errors.js';
import { errors, owned } from '../http/errors.js';
import { readPage, type PageRequest } from '../http/pagination.js';
import type { IdCodec } from '../security/encrypted-id.js';
import { parseTimestamp } from '../time/timestamp.js';
import { lastHumanClick } from '../tracking/repository.js';
import { comparableUrl } from '../tracking/urls.js';
import { findPaymentByReference, insertPayment, listPayments, paymentsCoverDebt, transactionTime, type PaymentRow } from './repository.js';
import { parseAmount } from './rules.js';
import type { CreatePaymentBody } from './schema.js';

const DAY_MS = 86_400_000;
/** History source of the attribution. */
const SOURCE = 'payment';

export type PaymentOutcome = { created: PaymentRow } | { existing: PaymentRow };

/**
 * Records a payment on a debt of the company, attributes it, and marks the debt paid once its
 * payments cover it, in one transaction. The debt row is locked first, so concurrent payments of
 * one debt run one after the other: each sees the sum of the others, and a repeated reference
 * finds the payment that holds it.
 */
export function createPayment(pool: Pool, ids: IdCodec, attributionDays: number, companyId: number, body: CreatePaymentBody): Promise<PaymentOutcome> {
  const debtId = ids.decode('debt', body.debt_id);
  return transaction(pool, async (tx) => {
    const lookup = debtId === undefined ? undefined : await lockDebt(companyId, debtId, 'update', tx);
    if (!lookup || 'forbidden' in lookup) throw errors.validation({ debt_id: 'Debt not found: debt_id must be the ID of a debt of your company' });
    const debt = lookup.found;
    const { amount, followupId } = await checked(tx, ids, companyId, debt, body);
    const reference = body.reference ?? null;
    const earlier = reference === null ? undefined : await findPaymentByReference(companyId, debt.id, reference, tx);
    if (earlier) return { existing: earlier };

    const paidAt = body.paid_at === undefined ? await transactionTime(tx) : parseTimestamp(body.paid_at)!;
    const attributed = followupId ?? await clickedFollowup(tx, companyId, debt, paidAt, attributionDays);
    const row = await insertPayment(companyId, debt.id, { amount, currency: debt.currency, paidAt, reference, followupId: attributed ?? null }, tx);
    // Under the debt's lock a reference cannot be taken meanwhile; the index still has the last word.
    if (!row) return { existing: (await findPaymentByReference(companyId, debt.id, reference!, tx))! };
    await emitEvents(tx, companyId, ['payment.received'], { type: 'payment', id: row.id }, row);
    if (attributed !== undefined) await updateFollowup(companyId, attributed, { triggered_payment: true }, SOURCE, tx);
    if (debt.status !== 'status.default.paid' && (await paymentsCoverDebt(companyId, debt.id, tx))) {
      await changeDebt(companyId, debt, { status: 'status.default.paid' }, tx);
    }
    return { created: row };
  });
}

/** The amount as an exact decimal and the explicit followup, or one 400 naming every bad field. */
async function checked(tx: Queryable, ids: IdCodec, companyId: number, debt: StoredDebt, body: CreatePaymentBody) {
  const details: ErrorDetails = {};
  if (body.currency.toUpperCase() !== debt.currency) details.currency = `currency must be the debt's currency (${debt.currency})`;
  const amount = parseAmount(body.amount, debt.currency);
  if ('problem' in amount) details.amount = amount.problem;
  let followupId: number | undefined;
  if (body.followup_id !== undefined) {
    followupId = ids.decode('followup', body.followup_id);
    const followup = followupId === undefined ? undefined : await findFollowup(companyId, followupId, tx);
    if (!followup || 'forbidden' in followup || followup.found.debt_id !== debt.id) {
      details.followup_id = 'followup_id must be the ID of a followup of this debt';
    }
  }
  if (Object.keys(details).length > 0) throw errors.validation(details);
  return { amount: (amount as { amount: string }).amount, followupId };
}

/** The followup whose tracked link to the debt's payment_link a person clicked last in the window before paidAt. */
async function clickedFollowup(tx: Queryable, companyId: number, debt: StoredDebt, paidAt: Date, days: number): Promise<number | undefined> {
  const link = debt.payment_link === null ? undefined : comparableUrl(debt.payment_link);
  if (link === undefined) return undefined;
  return lastHumanClick(companyId, debt.id, link, { from: new Date(paidAt.getTime() - days * DAY_MS), to: paidAt }, tx);
}

/** A page of the company's payments, of one debt when `debtId` is given (404 / 403 for an unknown or another company's debt). */
export async function companyPayments(pool: Pool, ids: IdCodec, companyId: number, debtText: string | undefined, page: PageRequest) {
  let debtId: number | undefined;
  if (debtText !== undefined) {
    debtId = ids.decode('debt', debtText);
    owned(debtId === undefined ? undefined : await debtOwnership(companyId, debtId, pool), 'debt');
  }
  return readPage(page, (window) => listPayments(companyId, debtId, window, pool));
}
