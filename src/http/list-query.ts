import { parseTimestamp, parseUpperBound } from '../time/timestamp.js';
import type { TimeRange } from '../db/where.js';
import type { ErrorDetails } from './errors.js';

/*
 * The parameters every list shares, read from the query string as the route schema let them
 * through (text). Each one that is wrong adds its message to `details`, so that a list answers
 * every bad parameter in one 400.
 */

/** One value or a comma-separated list of `valid` values (spaces around a value are ignored). */
export function enumList(raw: string | undefined, name: string, valid: readonly string[], details: ErrorDetails): string[] | undefined {
  if (raw === undefined) return undefined;
  const values = [...new Set(raw.split(',').map((v) => v.trim()))];
  const bad = values.filter((v) => !valid.includes(v));
  if (bad.length === 0) return values;
  details[name] = `Invalid ${name} filter "${bad.join(',').slice(0, 100)}". Valid values are: ${valid.join(', ')}`;
  return undefined;
}

/** An instant, as parseTimestamp reads it. */
export function instant(raw: string | undefined, name: string, details: ErrorDetails): Date | undefined {
  if (raw === undefined) return undefined;
  const value = parseTimestamp(raw);
  if (!value) details[name] = `Invalid ${name} format. Use ISO 8601`;
  return value;
}

/**
 * Inclusive bounds: the upper one as parseUpperBound reads it (a date includes its whole day, a
 * date-time its whole second), so the range's `before` is exclusive.
 */
export function timeRange(
  query: Record<string, string | undefined>,
  fromName: string,
  toName: string,
  details: ErrorDetails,
): TimeRange | undefined {
  const range: TimeRange = {};
  range.from = instant(query[fromName], fromName, details);
  const to = query[toName];
  if (to !== undefined) {
    range.before = parseUpperBound(to);
    if (!range.before) details[toName] = `Invalid ${toName} format. Use ISO 8601`;
  }
  if (range.from && range.before && range.from >= range.before) details[fromName] = `${fromName} must not be after ${toName}`;
  if (!range.from) delete range.from;
  if (!range.before) delete range.before;
  return range.from || range.before ? range : undefined;
}

/** The sort named by `raw` (default `fallback`), among `sorts`. */
export function sortOf<T>(raw: string | undefined, sorts: Record<string, T>, fallback: string, details: ErrorDetails): { name: string; order: T } {
  const name = raw ?? fallback;
  const order = Object.hasOwn(sorts, name) ? sorts[name] : undefined;
  if (order === undefined) details.sort = `Invalid sort. Valid values are: ${Object.keys(sorts).join(', ')}`;
  return { name, order: order ?? sorts[fallback]! };
}
