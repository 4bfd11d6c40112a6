import { createRequire } from 'node:module';

/**
 * ISO 4217 codes, from two maintained sources that lag in opposite directions: the ISO list
 * shipped by `currency-codes` (which has VED, but not XCG, introduced in 2025) and the
 * currencies of Node's ICU/CLDR data (which has XCG, but not VED). A code either source knows is
 * accepted, so a newly issued currency works as soon as one of them has it; recently withdrawn
 * codes that CLDR still lists (HRK, SLL) stay accepted, which suits old invoices. ISO's "ZZ"
 * entries are not money a debt can be owed in (gold, bond market units, XTS testing, XXX no
 * currency) and are refused.
 */
let known: { isoMinorUnits: Map<string, number>; cldr: Set<string> } | undefined;

/** The two lists, built by the first request that needs them (not at every process start). */
function currencies() {
  if (known) return known;
  const isoCurrencies = (createRequire(import.meta.url)('currency-codes') as typeof import('currency-codes')).data;
  const isoMinorUnits = new Map(
    isoCurrencies.filter((c) => !c.countries.some((country) => /^zz\d/i.test(country))).map((c) => [c.code, c.digits]),
  );
  const pseudo = new Set(isoCurrencies.filter((c) => !isoMinorUnits.has(c.code)).map((c) => c.code));
  return (known = { isoMinorUnits, cldr: new Set(Intl.supportedValuesOf('currency').filter((code) => !pseudo.has(code))) });
}

export function isCurrencyCode(code: string): boolean {
  const { isoMinorUnits, cldr } = currencies();
  return isoMinorUnits.has(code) || cldr.has(code);
}

/** Decimal places of the currency's minor unit: 2 for EUR, 0 for JPY, 3 for KWD. */
export function minorUnits(code: string): number {
  return currencies().isoMinorUnits.get(code) ?? new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
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
