import { errors, type ErrorDetails } from '../http/errors.js';
import { parsePage, type PageRequest } from '../http/pagination.js';
import type { IdCodec } from '../security/encrypted-id.js';
import { parseTimestamp, parseUpperBound } from '../time/timestamp.js';
import type { FollowupFilters, Keyset, ListOrder, TimeRange } from './list-repository.js';
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
    statuses: oneOf(query.status, 'status', FOLLOWUP_STATUSES, details),
    types: oneOf(query.type, 'type', FOLLOWUP_TYPES, details),
    activity: range(query.date_from, query.date_to, 'date_from', 'date_to', details),
    scheduled: range(query.scheduled_from, query.scheduled_to, 'scheduled_from', 'scheduled_to', details),
  };
  if (query.debt_id !== undefined) {
    filters.debtId = ids.decode('debt', query.debt_id);
    if (filters.debtId === undefined) details.debt_id = 'debt_id must be a debt ID';
  }
  if (query.updated_since !== undefined) {
    filters.updatedSince = parseTimestamp(query.updated_since);
    if (!filters.updatedSince) details.updated_since = 'Invalid updated_since format. Use ISO 8601';
  }
  const sort = query.sort ?? '-activity_date';
  const order = SORTS[sort];
  if (!order) details.sort = `Invalid sort. Valid values are: ${Object.keys(SORTS).join(', ')}`;
  const page = parsePage(query, details);

  let cursor: ListRequest['cursor'];
  if (query.cursor !== undefined) {
    if (query.page !== undefined) details.cursor = 'Send either cursor or page, not both';
    else if (query.cursor === '') cursor = {};
    else {
      const after = decodeCursor(query.cursor, sort, ids);
      if (after) cursor = { after };
      else details.cursor = 'Invalid cursor: use a next_cursor returned with the same sort, or an empty cursor to start';
    }
  }
  if (Object.keys(details).length > 0) throw errors.validation(details);
  return { filters, sort, order: order!, limit: page.limit, ...(cursor ? { cursor } : { page }) };
}

function oneOf(raw: string | undefined, name: string, valid: readonly string[], details: ErrorDetails) {
  if (raw === undefined) return undefined;
  const values = [...new Set(raw.split(',').map((v) => v.trim()))];
  const bad = values.filter((v) => !valid.includes(v));
  if (bad.length > 0) {
    details[name] = `Invalid ${name} filter "${bad.join(',').slice(0, 100)}". Valid values are: ${valid.join(', ')}`;
    return undefined;
  }
  return values;
}

/** Inclusive bounds; the upper one as parseUpperBound reads it (a whole day or second). */
function range(from: string | undefined, to: string | undefined, fromName: string, toName: string, details: ErrorDetails) {
  const bounds: TimeRange = {};
  if (from !== undefined) {
    bounds.from = parseTimestamp(from);
    if (!bounds.from) details[fromName] = `Invalid ${fromName} format. Use ISO 8601`;
  }
  if (to !== undefined) {
    bounds.before = parseUpperBound(to);
    if (!bounds.before) details[toName] = `Invalid ${toName} format. Use ISO 8601`;
  }
  if (bounds.from && bounds.before && bounds.from >= bounds.before) details[fromName] = `${fromName} must not be after ${toName}`;
  return bounds.from || bounds.before ? bounds : undefined;
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
