import { data as isoCurrencies } from 'currency-codes';

/**
 * ISO 4217 codes, from two maintained sources that lag in opposite directions: the ISO list
 * shipped by `currency-codes` (which has VED, but not XCG, introduced in 2025) and the
 * currencies of Node's ICU/CLDR data (which has XCG, but not VED). A code either source knows is
 * accepted, so a newly issued currency works as soon as one of them has it; recently withdrawn
 * codes that CLDR still lists (HRK, SLL) stay accepted, which suits old invoices. ISO's "ZZ"
 * entries are not money a debt can be owed in (gold, bond market units, XTS testing, XXX no
 * currency) and are refused.
 */
const ISO_MINOR_UNITS = new Map(
  isoCurrencies.filter((c) => !c.countries.some((country) => /^zz\d/i.test(country))).map((c) => [c.code, c.digits]),
);
const PSEUDO = new Set(isoCurrencies.filter((c) => !ISO_MINOR_UNITS.has(c.code)).map((c) => c.code));
const CLDR = new Set(Intl.supportedValuesOf('currency').filter((code) => !PSEUDO.has(code)));

export function isCurrencyCode(code: string): boolean {
  return ISO_MINOR_UNITS.has(code) || CLDR.has(code);
}

/** Decimal places of the currency's minor unit: 2 for EUR, 0 for JPY, 3 for KWD. */
export function minorUnits(code: string): number {
  return ISO_MINOR_UNITS.get(code) ?? new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
}

const formats = new Map<string, Intl.NumberFormat>();

/**
 * `amount_text`: the amount as a French reader expects it ("1 250,00 €"), with the currency's
 * own decimal places. Intl uses U+202F (narrow no-break space) between thousands and U+00A0
 * (no-break space) before the symbol, so the text never wraps.
 */
export function formatAmount(amount: number, currency: string): string {
  let format = formats.get(currency);
  if (!format) {
    const digits = minorUnits(currency);
    format = new Intl.NumberFormat('fr-FR', { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    formats.set(currency, format);
  }
  return format.format(amount);
}
