// ISO 8601 timestamps in: a date-time with `Z` or an offset (converted to UTC), a date-time
// without a zone (taken as UTC), or a calendar date alone (00:00 UTC). Anything else is refused.
const PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

export function parseTimestamp(text: string): Date | undefined {
  if (text.length > 40) return undefined;
  const match = PATTERN.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', , sign, oh = '00', om = '00'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (Number(oh) > 23 || Number(om) > 59) return undefined;
  const millis = Number((fraction + '00').slice(0, 3));
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  // Date rolls 31 February over to March: reject dates that do not exist.
  if (utc.getUTCFullYear() !== year || utc.getUTCMonth() !== month - 1 || utc.getUTCDate() !== day) return undefined;
  const offsetMinutes = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  const result = new Date(utc.getTime() - offsetMinutes * 60_000);
  // An offset can carry 0001-01-01 or 9999-12-31 out of the four-digit years of the output format.
  const utcYear = result.getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999 ? result : undefined;
}

/** Timestamps out: UTC, seconds precision, `YYYY-MM-DDTHH:MM:SS+00:00`. */
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * The exclusive end of an inclusive upper bound, as clients see timestamps: a date covers its
 * whole day, a date-time its whole second (timestamps are shown to the second, so a row's own
 * shown timestamp as the bound finds it). Undefined when `text` is not a timestamp.
 */
export function parseUpperBound(text: string): Date | undefined {
  const end = parseTimestamp(text);
  if (!end) return undefined;
  return new Date(DATE_ONLY.test(text) ? end.getTime() + DAY_MS : Math.floor(end.getTime() / 1000) * 1000 + 1000);
}

export function formatTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

export function formatNullableTimestamp(date: Date | null): string | null {
  return date === null ? null : formatTimestamp(date);
}

// A timestamptz as PostgreSQL writes it in JSON (history values come from to_jsonb): offsets may
// carry seconds (local mean time before 1900 in many zones), years may pass 9999 or be BC.
const STORED = /^(\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([+-])(\d{2})(?::(\d{2})(?::(\d{2}))?)?)?$/;

/**
 * A stored timestamp in the API's format. Total: connections run in UTC, so the value is
 * normally `…+00:00` already, but a value this cannot read is returned as it is rather than
 * failing the whole response.
 */
export function formatStoredTimestamp(text: string): string {
  const match = STORED.exec(text);
  if (!match) return text;
  const [, y, mo, d, h, mi, s, sign, oh = '0', om = '0', os = '0'] = match;
  const utc = new Date(0);
  utc.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  utc.setUTCHours(Number(h), Number(mi), Number(s), 0);
  const offsetSeconds = (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60 + Number(os));
  const result = new Date(utc.getTime() - offsetSeconds * 1000);
  const year = result.getUTCFullYear();
  return Number.isNaN(result.getTime()) || year < 1 || year > 9999 ? text : formatTimestamp(result);
}
