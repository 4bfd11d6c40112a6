import { OutboundError } from './outbound-error.js';

/** One request of a chain: the URL given, then each redirect's. */
export interface Hop {
  url: URL;
  method: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer | string | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language'];
// What a client sends to one origin only (as browsers and curl do on a redirect elsewhere).
const ORIGIN_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** What is wrong with a URL as the target of a request, if anything. */
function urlProblem(url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an http or https URL';
  // Credentials in a URL end up in logs and in the Authorization header of every hop.
  if (url.username !== '' || url.password !== '') return 'carries a user name or password';
  return undefined;
}

/** The URL a caller gave, or an `invalid_url` error that does not repeat it. */
export function parseTargetUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new OutboundError('invalid_url', 'The URL is not a valid absolute URL');
  }
  const problem = urlProblem(url);
  if (problem) throw new OutboundError('invalid_url', `The URL ${problem}`);
  return url;
}

/** The Location of a redirect response, or undefined for any other response. */
export function redirectLocation(status: number, location: string | undefined): string | undefined {
  return REDIRECTS.has(status) && location ? location : undefined;
}

/**
 * The request a redirect asks for: its URL checked like the first one (and an https → http
 * downgrade refused unless allowed), the method and body rewritten as browsers do (a 303, or a
 * POST answered 301/302, becomes a GET without body), and no credentials sent to another origin.
 */
export function followRedirect(hop: Hop, status: number, location: string, allowHttpsToHttp: boolean, server: string): Hop {
  let url: URL;
  try {
    url = new URL(location, hop.url);
  } catch {
    throw new OutboundError('bad_redirect', `${server} redirected to an invalid URL`);
  }
  const problem = urlProblem(url);
  if (problem) throw new OutboundError('bad_redirect', `${server} redirected to a URL that ${problem}`);
  if (hop.url.protocol === 'https:' && url.protocol === 'http:' && !allowHttpsToHttp) {
    throw new OutboundError('bad_redirect', `${server} redirected from https to plain http`);
  }
  const toGet = (status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD') || ((status === 301 || status === 302) && hop.method === 'POST');
  const dropped = [...(toGet ? BODY_HEADERS : []), ...(url.origin !== hop.url.origin ? ORIGIN_HEADERS : [])];
  const headers = Object.fromEntries(Object.entries(hop.headers).filter(([name]) => !dropped.includes(name)));
  return { url, headers, method: toGet ? 'GET' : hop.method, body: toGet ? undefined : hop.body };
}
