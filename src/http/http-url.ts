const SCHEME_AND_AUTHORITY = /^https?:\/\/[^\s/?#]/i;
const WHITESPACE = /\s/;

/**
 * An absolute http(s) URL with a host and no whitespace, as WHATWG URL parsing reads it. Two
 * regular expressions with no quantifier over an open-ended run, then the platform's parser:
 * linear in the length of the text, whatever it holds.
 */
export function isHttpUrl(text: string): boolean {
  if (!SCHEME_AND_AUTHORITY.test(text) || WHITESPACE.test(text)) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
}
