/**
 * A destination as it is stored and redirected to: the WHATWG serialisation of the URL, which is
 * plain ASCII (an IDN host in punycode, other characters percent-encoded), so it is always a
 * valid Location header. The caller has validated it (format `http-url`).
 */
export function destinationUrl(text: string): string {
  return new URL(text).href;
}

/**
 * The form two URLs are compared in (a tracked link against a debt's payment_link): the WHATWG
 * serialisation (scheme and host in lower case, default port dropped, dot segments resolved)
 * without the fragment, which never reaches the server. Undefined for text that is no URL.
 */
export function comparableUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}
