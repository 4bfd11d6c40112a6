/**
 * `inline; filename="…"` (RFC 6266), with `filename*` (RFC 8187) when the name is not plain
 * ASCII: the quoted form carries an ASCII stand-in, so no byte of the name can end the quoted
 * string or the header.
 */
export function inlineDisposition(filename: string): string {
  let ascii = '';
  for (const char of filename) {
    const c = char.codePointAt(0)!;
    ascii += c >= 0x20 && c < 0x7f && char !== '"' && char !== '\\' && char !== '%' ? char : '_';
  }
  if (ascii === filename) return `inline; filename="${ascii}"`;
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(filename)}`;
}

/** Percent-encodes all but RFC 8187's attr-char. */
function encodeRfc8187(value: string): string {
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    const attrChar = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || '!#$&+-.^_`|~'.includes(char);
    encoded += attrChar ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
