import { createRequire } from 'node:module';
import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import type { CountryCode } from 'libphonenumber-js/max';
import { errors, type ErrorDetails } from '../http/errors.js';
import { isCurrencyCode, minorUnits } from './currencies.js';
import type { DebtChanges, DebtValues, StoredDebt } from './repository.js';
import { DEBT_FIELDS, METADATA_MAX_BYTES, METADATA_MAX_DEPTH, type DebtField } from './schema.js';

// The numbering plans and the country list are large tables (a third of a second to load on
// this machine): they are loaded by the first debt that needs them, not by every process start.
const require = createRequire(import.meta.url);
let phoneNumbers: typeof import('libphonenumber-js/max') | undefined;
let countries: typeof import('i18n-iso-countries') | undefined;
const libphonenumber = () => (phoneNumbers ??= require('libphonenumber-js/max') as typeof import('libphonenumber-js/max'));
const isCountryCode = (code: string) => (countries ??= require('i18n-iso-countries') as typeof import('i18n-iso-countries')).isValid(code);

/*
 * The rules of debt input that a schema cannot state (phone numbers, IBAN, ISO codes, cross-field
 * rules), applied after the request schema: the route's (Fastify validates every request), or
 * the CLI's copy of it. The schema's problems come in as `problems`, so that every failing field
 * is reported at once, in one 400, and a field that failed the schema gets that one message.
 */

/** A body and what the request schema found wrong with it (nothing: `{}`). */
export interface SchemaChecked {
  body: unknown;
  problems: ErrorDetails;
}

const NO_CONTACT = 'At least one of phone or email is required';

/** The values of a new debt, or a 400 naming every bad field. */
export function parseNewDebt(input: SchemaChecked): DebtValues {
  const changes = parse(input.body, { ...input.problems }, undefined, DEBT_FIELDS);
  const empty = Object.fromEntries(DEBT_FIELDS.map((field) => [field, null]));
  return { ...empty, ...changes } as DebtValues;
}

/** The changes an update asks for, checked against the debt they apply to. */
export function parseDebtChanges(input: SchemaChecked, current: StoredDebt): DebtChanges {
  return parse(input.body, { ...input.problems }, current, ['status', ...DEBT_FIELDS]);
}

function parse(input: unknown, details: ErrorDetails, current: StoredDebt | undefined, fields: (DebtField | 'status')[]): DebtChanges {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw errors.validation(details);
  const body = input as Record<string, unknown>;
  // Fields that failed the schema are left out: each field gets one message, the first.
  const changes: Record<string, unknown> = {};
  for (const field of fields) if (body[field] !== undefined && !(field in details)) changes[field] = body[field];

  normaliseFields(changes, details);
  if (typeof changes.phone === 'string') {
    // A national number is read with the debt's country: the one sent now, else the stored one.
    const country = 'country' in details ? undefined : 'country' in changes ? (changes.country as string | null) : (current?.country ?? null);
    const phone = toE164(changes.phone, country);
    if ('number' in phone) changes.phone = phone.number;
    else if (phone.error) details.phone = phone.error;
  }
  checkContact(changes, details, current);
  checkDecimals(changes, details, current);
  if (Object.keys(details).length > 0) throw errors.validation(details);
  if (typeof changes.amount === 'number') changes.amount = changes.amount.toFixed(2);
  return changes as DebtChanges;
}

/** Single-field rules; values are put in their stored form (trimmed names, capitals, IBAN without spaces). */
function normaliseFields(changes: Record<string, unknown>, details: ErrorDetails) {
  for (const field of ['firstname', 'lastname'] as const) {
    if (typeof changes[field] === 'string') changes[field] = changes[field].trim();
  }
  if (typeof changes.currency === 'string') {
    changes.currency = changes.currency.toUpperCase();
    if (!isCurrencyCode(changes.currency as string)) details.currency = 'currency must be an ISO 4217 currency code such as EUR';
  }
  if (typeof changes.country === 'string') {
    const country = (changes.country = changes.country.toUpperCase()) as string;
    if (!/^[A-Z]{2}$/.test(country) || !isCountryCode(country)) {
      details.country = 'country must be an ISO 3166-1 alpha-2 country code such as FR';
    }
  }
  if (typeof changes.iban === 'string') {
    const iban = electronicFormatIBAN(changes.iban);
    if (!iban || !isValidIBAN(iban)) details.iban = 'iban must be a valid IBAN (its country format or check digits are wrong)';
    else changes.iban = iban;
  }
  if (typeof changes.birthdate === 'string' && changes.birthdate > new Date().toISOString().slice(0, 10)) {
    details.birthdate = 'birthdate must not be in the future';
  }
  if (typeof changes.metadata === 'object' && changes.metadata !== null) {
    const problem = metadataProblem(changes.metadata as Record<string, unknown>);
    if (problem) details.metadata = problem;
  }
}

/** A debt keeps a way to reach the debtor. */
function checkContact(changes: Record<string, unknown>, details: ErrorDetails, current: StoredDebt | undefined) {
  if ('phone' in details || 'email' in details) return;
  const phone = 'phone' in changes ? changes.phone : current?.phone;
  const email = 'email' in changes ? changes.email : current?.email;
  if (phone == null && email == null) {
    details.phone = NO_CONTACT;
    details.email = NO_CONTACT;
  }
}

/** At most 2 decimals (the column's scale), and no more than the currency has (none for JPY). */
function checkDecimals(changes: Record<string, unknown>, details: ErrorDetails, current: StoredDebt | undefined) {
  if ('amount' in details || !('amount' in changes || 'currency' in changes)) return;
  const amount = 'amount' in changes ? (changes.amount as number) : Number(current?.amount);
  // With an invalid currency, the column's 2 decimals are still checked.
  const currency = 'currency' in details ? undefined : (('currency' in changes ? changes.currency : current?.currency) as string | undefined);
  const decimals = currency === undefined ? 2 : Math.min(2, minorUnits(currency));
  if (Number.isNaN(amount) || Number(amount.toFixed(decimals)) === amount) return;
  const allowed = decimals === 0 ? 'no decimals' : decimals === 1 ? 'at most 1 decimal' : 'at most 2 decimals';
  if ('amount' in changes) details.amount = `amount must have ${allowed}${decimals < 2 ? ` in ${currency}` : ''}`;
  else details.currency = `currency ${currency} allows ${allowed}: the debt's amount ${amount} has more`;
}

type PhoneResult = { number: string } | { error: string | undefined };

/**
 * E.164 with libphonenumber-js (full metadata, so validity is checked against each numbering
 * plan). `error: undefined` when the number cannot be read only because `country` is itself
 * invalid: that field already carries the error.
 */
function toE164(text: string, country: string | null | undefined): PhoneResult {
  const { isSupportedCountry, ParseError, parsePhoneNumberWithError } = libphonenumber();
  const defaultCountry = country && isSupportedCountry(country) ? (country as CountryCode) : undefined;
  try {
    const parsed = parsePhoneNumberWithError(text, { defaultCountry, extract: false });
    if (parsed.ext) return { error: 'phone must not include an extension' };
    if (!parsed.isValid()) return { error: 'phone must be a valid phone number' };
    return { number: parsed.number };
  } catch (error) {
    // INVALID_COUNTRY also means an unknown calling code (+999): that number is just invalid.
    const national = error instanceof ParseError && error.message === 'INVALID_COUNTRY' && !text.trim().startsWith('+');
    if (!national) return { error: 'phone must be a valid phone number' };
    if (country === undefined) return { error: undefined };
    return {
      error: country === null
        ? 'phone has no international prefix (such as +33) and the debt has no country: send it in international format or set country'
        : `phone has no international prefix (such as +33) and country ${country} has no numbering plan to read it with: send it in international format`,
    };
  }
}

// U+0000 and unpaired surrogates cannot be stored in jsonb: refuse them rather than fail in SQL.
const UNSTORABLE = /\u0000|\p{Cs}/u;

function metadataProblem(metadata: Record<string, unknown>): string | undefined {
  // Walked with an explicit stack: a deeply nested body must not overflow the call stack.
  const stack: [unknown, number][] = [[metadata, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) return 'metadata must not contain the NUL character or unpaired surrogates';
      continue;
    }
    // JSON allows 1e400; JavaScript reads it as Infinity, which jsonb would store as null.
    if (typeof value === 'number' && !Number.isFinite(value)) return 'metadata must not hold numbers beyond the range of a double (such as 1e400)';
    if (value === null || typeof value !== 'object') continue;
    if (depth > METADATA_MAX_DEPTH) return `metadata must not be nested more than ${METADATA_MAX_DEPTH} levels deep`;
    for (const [key, item] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) return 'metadata must not contain the NUL character or unpaired surrogates';
      stack.push([item, depth + 1]);
    }
  }
  if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) return `metadata must be at most ${METADATA_MAX_BYTES} bytes as JSON`;
  return undefined;
}
