import { minorUnits } from '../debts/currencies.js';

/** Digits before the point that numeric(14, 2) holds. */
const INTEGER_DIGITS = 12;
const DECIMAL = /^([0-9]{1,40})(?:\.([0-9]{1,40}))?$/;

/**
 * The amount as an exact decimal string for PostgreSQL, or the message saying why not. A JSON
 * number is read through its shortest decimal spelling (0.1 is "0.1", not 0.1000000000000000055…),
 * so no float arithmetic ever touches money; trailing zeros of the fraction do not count as decimals.
 */
export function parseAmount(value: number | string, currency: string): { amount: string } | { problem: string } {
  const decimals = Math.min(2, minorUnits(currency));
  const problem = `amount must be greater than 0 with at most ${decimals} decimals (${currency}) and at most ${INTEGER_DIGITS} digits before the point`;
  const text = typeof value === 'number' ? String(value) : value;
  const match = DECIMAL.exec(text);
  if (!match) return { problem };
  const integer = trimZeros(match[1]!, 'start') || '0';
  const fraction = trimZeros(match[2] ?? '', 'end');
  if (integer.length > INTEGER_DIGITS || fraction.length > decimals || (integer === '0' && fraction === '')) return { problem };
  return { amount: fraction ? `${integer}.${fraction}` : integer };
}

function trimZeros(digits: string, side: 'start' | 'end'): string {
  let start = 0;
  let end = digits.length;
  if (side === 'start') while (start < end && digits[start] === '0') start++;
  else while (end > start && digits[end - 1] === '0') end--;
  return digits.slice(start, end);
}
