import type { ByteRange } from '../storage/blob-store.js';

/**
 * Reads a `Range` header (RFC 9110 §14.2) against an object of `size` bytes: one range
 * (`bytes=a-b`, `a-`, `-n`), its end clipped to the last byte; 'unsatisfiable' (416) when it
 * starts past the end; undefined, to serve the whole object (200), when the header is absent,
 * malformed, in another unit, or asks for several ranges (which a server may ignore). A single
 * pass over the characters, no regex.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const equals = header.indexOf('=');
  if (equals < 0 || trimOws(header.slice(0, equals)).toLowerCase() !== 'bytes') return undefined;
  // A list may hold empty elements (RFC 9110 §5.6.1); more than one range is ignored.
  const specs = header.slice(equals + 1).split(',').map(trimOws).filter((spec) => spec !== '');
  if (specs.length !== 1) return undefined;
  const spec = specs[0]!;
  const dash = spec.indexOf('-');
  if (dash < 0) return undefined;
  const first = spec.slice(0, dash);
  const last = spec.slice(dash + 1);
  if (!onlyDigits(first) || !onlyDigits(last)) return undefined;
  if (first === '') {
    if (last === '') return undefined;
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/** ASCII digits only; true for '' too (either bound of a range may be absent). */
export function onlyDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Strips spaces and tabs, HTTP's optional whitespace, from both ends. */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(start, end);
}
