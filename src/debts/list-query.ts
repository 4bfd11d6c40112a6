import { errors, type ErrorDetails } from '../http/errors.js';
import { parsePage, type PageRequest } from '../http/pagination.js';
import { parseTimestamp, parseUpperBound } from '../time/timestamp.js';
import { isCurrencyCode } from './currencies.js';
import type { DebtFilters } from './repository.js';
import { DEBT_STATUSES, type ListDebtsQuery } from './schema.js';


/** Parses and checks every parameter of `GET /debts`, reporting all the bad ones in one 400. */
export function parseDebtListQuery(query: ListDebtsQuery): { filters: DebtFilters; page: PageRequest } {
  const details: ErrorDetails = {};
  const filters: DebtFilters = {};
  if (query.status !== undefined) {
    const statuses = [...new Set(query.status.split(',').map((s) => s.trim()))];
    const bad = statuses.filter((s) => !(DEBT_STATUSES as readonly string[]).includes(s));
    if (bad.length === 0) filters.statuses = statuses;
    else details.status = `Invalid status filter "${bad.join(',').slice(0, 100)}". Valid values are: ${DEBT_STATUSES.join(', ')}`;
  }
  if (query.currency !== undefined) {
    const currency = query.currency.toUpperCase();
    if (/^[A-Z]{3}$/.test(currency) && isCurrencyCode(currency)) filters.currency = currency;
    else details.currency = 'currency must be an ISO 4217 currency code such as EUR';
  }
  if (query.created_from !== undefined) {
    filters.createdFrom = parseTimestamp(query.created_from);
    if (!filters.createdFrom) details.created_from = 'Invalid created_from format. Use ISO 8601';
  }
  if (query.created_to !== undefined) {
    filters.createdBefore = parseUpperBound(query.created_to);
    if (!filters.createdBefore) details.created_to = 'Invalid created_to format. Use ISO 8601';
  }
  if (filters.createdFrom && filters.createdBefore && filters.createdFrom >= filters.createdBefore) {
    details.created_from = 'created_from must not be after created_to';
  }
  const page = parsePage(query, details);
  if (Object.keys(details).length > 0) throw errors.validation(details);
  return { filters, page };
}
