import { errors, type ErrorDetails } from '../http/errors.js';
import { parsePage, type PageRequest } from '../http/pagination.js';
import type { IdCodec } from '../security/encrypted-id.js';
import { enumList, instant, sortOf, timeRange } from '../http/list-query.js';
import { parseTimestamp } from '../time/timestamp.js';
import type { FollowupFilters, Keyset, ListOrder } from './list-repository.js';
import { FOLLOWUP_STATUSES, FOLLOWUP_TYPES, type ListFollowupsQuery } from './schema.js';

const SORTS: Record<string, ListOrder> = {
  '-activity_date': { column: 'activity_at', descending: true },
  activity_date: { column: 'activity_at', descending: false },
  '-updated_at': { column: 'updated_at', descending: true },
  updated_at: { column: 'updated_at', descending: false },
};

export const FOLLOWUP_SORTS = Object.keys(SORTS);

export interface ListRequest {
  filters: FollowupFilters;
  sort: string;
  order: ListOrder;
  limit: number;
  /** Page mode. */
  page?: PageRequest;
  /** Cursor mode: the keyset to continue after (undefined on a first cursor page). */
  cursor?: { after?: Keyset };
}

/** Parses and checks every list parameter, reporting all the bad ones in one 400. */
export function parseListQuery(query: ListFollowupsQuery, ids: IdCodec): ListRequest {
  const details: ErrorDetails = {};
  const filters: FollowupFilters = {
    statuses: enumList(query.status, 'status', FOLLOWUP_STATUSES, details),
    types: enumList(query.type, 'type', FOLLOWUP_TYPES, details),
    activity: timeRange(query, 'date_from', 'date_to', details),
    scheduled: timeRange(query, 'scheduled_from', 'scheduled_to', details),
    updatedSince: instant(query.updated_since, 'updated_since', details),
  };
  if (query.debt_id !== undefined) {
    filters.debtId = ids.decode('debt', query.debt_id);
    if (filters.debtId === undefined) details.debt_id = 'debt_id must be a debt ID';
  }
  const sort = sortOf(query.sort, SORTS, '-activity_date', details);
  const page = parsePage(query, details);

  let cursor: ListRequest['cursor'];
  if (query.cursor !== undefined) {
    if (query.page !== undefined) details.cursor = 'Send either cursor or page, not both';
    else if (query.cursor === '') cursor = {};
    else {
      const after = decodeCursor(query.cursor, sort.name, ids);
      if (after) cursor = { after };
      else details.cursor = 'Invalid cursor: use a next_cursor returned with the same sort, or an empty cursor to start';
    }
  }
  if (Object.keys(details).length > 0) throw errors.validation(details);
  return { filters, sort: sort.name, order: sort.order, limit: page.limit, ...(cursor ? { cursor } : { page }) };
}

const SORT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

/**
 * Cursors are opaque to clients: base64url of [sort, exact sort value, the row's public id].
 * The id is the encrypted one the client already sees, so a cursor reveals no internal number.
 * A cursor only ever continues a scan of the caller's own company, so a forged one can reveal
 * nothing either; it is checked for shape and refused when malformed.
 */
export function encodeCursor(sort: string, position: Keyset, ids: IdCodec): string {
  return Buffer.from(JSON.stringify([sort, position.key, ids.encode('followup', position.id)])).toString('base64url');
}

function decodeCursor(text: string, sort: string, ids: IdCodec): Keyset | undefined {
  if (text.length > 200 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [cursorSort, key, publicId] = value;
    const id = typeof publicId === 'string' ? ids.decode('followup', publicId) : undefined;
    if (cursorSort !== sort || id === undefined) return undefined;
    // A well-formed but impossible instant (30 February) would fail in SQL: refuse it here.
    if (typeof key !== 'string' || !SORT_KEY.test(key) || !parseTimestamp(`${key}Z`)) return undefined;
    return { key, id };
  } catch {
    return undefined;
  }
}
