import { errors, type ErrorDetails } from '../http/errors.js';
import { enumList, timeRange } from '../http/list-query.js';
import { parsePage, type PageRequest } from '../http/pagination.js';
import { isCurrencyCode } from './currencies.js';
import type { DebtFilters } from './repository.js';
import { DEBT_STATUSES, type ListDebtsQuery } from './schema.js';

/** Parses and checks every parameter of `GET /debts`, reporting all the bad ones in one 400. */
export function parseDebtListQuery(query: ListDebtsQuery): { filters: DebtFilters; page: PageRequest } {
  const details: ErrorDetails = {};
  const filters: DebtFilters = {
    statuses: enumList(query.status, 'status', DEBT_STATUSES, details),
    created: timeRange(query, 'created_from', 'created_to', details),
  };
  if (query.currency !== undefined) {
    const currency = query.currency.toUpperCase();
    if (/^[A-Z]{3}$/.test(currency) && isCurrencyCode(currency)) filters.currency = currency;
    else details.currency = 'currency must be an ISO 4217 currency code such as EUR';
  }
  const page = parsePage(query, details);
  if (Object.keys(details).length > 0) throw errors.validation(details);
  return { filters, page };
}
