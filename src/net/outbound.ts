/**
 * Every HTTP request Relance makes to a URL it was given (recordings to download, webhooks to
 * deliver) goes through `outboundRequest`, so that none can reach Relance's own network (SSRF):
 * each hop's host is resolved, refused if any address is private, loopback, link-local,
 * multicast, unspecified or reserved (unless OUTBOUND_ALLOW lets it through), and connected
 * through request-filtering-agent with only the addresses checked, which the agent checks again.
 * One deadline covers DNS, connects, headers and body of every hop; the body is capped.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { AllowList } from './allow-list.js';
import { type Destination, type Lookup, pinnedLookup, resolveDestination, systemLookup } from './destination.js';
import { networkError, OutboundError, serverLabel, type Where } from './outbound-error.js';
import { followRedirect, type Hop, parseTargetUrl, redirectLocation } from './request-target.js';

export { AllowList } from './allow-list.js';
export type { Lookup } from './destination.js';
export { OutboundError, type OutboundFailure } from './outbound-error.js';

export interface OutboundOptions extends Partial<Settings> {
  method?: string;
  headers?: Record<string, string>;
  /** A Buffer or string, so that a 307/308 redirect can send it again. */
  body?: Buffer | string;
}

interface Settings {
  /** The whole request: DNS, connects, headers and body of every hop. */
  timeoutMs: number;
  /** From the start of each hop's connection to its TCP (and, for https, TLS) handshake done. */
  connectTimeoutMs: number;
  /** Largest response body; more (or a Content-Length announcing more) is a `too_large` error. */
  maxBytes: number;
  maxRedirects: number;
  /** Follow a redirect from https to plain http (refused by default). */
  allowHttpsToHttp: boolean;
  /** Private or reserved destinations let through (config.outbound.allow). */
  allow: AllowList;
  /** How host names are resolved (the system's resolver; tests inject their own). */
  lookup: Lookup;
}

export interface OutboundResponse {
  /** Always 2xx: any other final status is an `http_status` error. */
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL of the last hop. */
  url: URL;
  /**
   * The body as it arrives, capped at maxBytes and under the deadline: it fails with an
   * OutboundError past either. Read it, or destroy it to give up.
   */
  body: Readable;
}

export const OUTBOUND_DEFAULTS: Readonly<Settings> = {
  timeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  maxBytes: 10 * 1024 * 1024,
  maxRedirects: 5,
  allowHttpsToHttp: false,
  allow: AllowList.EMPTY,
  lookup: systemLookup,
};

const USER_AGENT = 'Relance';

/**
 * Sends one request, following redirects, and resolves once the final 2xx response's headers
 * have arrived; every failure is an OutboundError. Its body must then be read or destroyed.
 */
export async function outboundRequest(input: string | URL, options: OutboundOptions = {}): Promise<OutboundResponse> {
  const { method = 'GET', headers = {}, body, ...given } = options;
  const settings: Settings = { ...OUTBOUND_DEFAULTS, ...withoutUndefined(given) };
  let hop: Hop = {
    url: parseTargetUrl(input),
    method: method.toUpperCase(),
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value])),
    body,
  };
  const host = hop.url.host;
  const deadline = startDeadline(settings.timeoutMs, host);
  try {
    for (let redirects = 0; ; redirects++) {
      const where = { host, hop: redirects };
      const response = await send(hop, settings, deadline.signal, where);
      const location = redirectLocation(response.statusCode!, response.headers.location);
      if (location === undefined) return accept(response, hop.url, settings, deadline, where);
      response.destroy();
      if (redirects >= settings.maxRedirects) {
        throw new OutboundError('too_many_redirects', `${host} redirected more than ${settings.maxRedirects} times`, response.statusCode);
      }
      hop = followRedirect(hop, response.statusCode!, location, settings.allowHttpsToHttp, serverLabel(where));
    }
  } catch (error) {
    deadline.clear();
    throw error;
  }
}

/** The whole body of a response, within its cap. */
export async function readBody(response: OutboundResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An option left undefined takes its default rather than erasing it. */
function withoutUndefined(given: Partial<Settings>): Partial<Settings> {
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
}

interface Deadline {
  signal: AbortSignal;
  clear: () => void;
}

function startDeadline(ms: number, host: string): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new OutboundError('timeout', `${host} did not answer in full within ${ms} ms`)), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** Calls `onAbort` with the deadline's error when it passes; returns what stops listening. */
function whenAborted(signal: AbortSignal, onAbort: (reason: OutboundError) => void): () => void {
  const listener = () => onAbort(signal.reason as OutboundError);
  if (signal.aborted) listener();
  else signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** `promise`, or the deadline's error if it passes first (a DNS lookup cannot be cancelled). */
function raced<T>(signal: AbortSignal, promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = whenAborted(signal, reject);
    promise.then(resolve, reject).finally(stop);
  });
}

/** One hop: resolved and checked, then connected to the checked addresses only; resolves at its headers. */
async function send(hop: Hop, settings: Settings, signal: AbortSignal, where: Where): Promise<IncomingMessage> {
  const destination = await raced(signal, resolveDestination(hop.url, settings.allow, settings.lookup, where));
  const server = serverLabel(where);
  return new Promise<IncomingMessage>((resolve, reject) => {
    const secure = hop.url.protocol === 'https:';
    const request = (secure ? https : http).request({
      hostname: destination.hostname,
      port: hop.url.port || undefined,
      path: `${hop.url.pathname}${hop.url.search}`,
      method: hop.method,
      headers: { 'user-agent': USER_AGENT, ...hop.headers },
      agent: filteringAgent(secure, destination),
      lookup: pinnedLookup(destination.addresses),
    });
    const connectTimer = setTimeout(
      () => request.destroy(new OutboundError('timeout', `Could not connect to ${server} within ${settings.connectTimeoutMs} ms`)),
      settings.connectTimeoutMs,
    );
    request.once('socket', (socket) => socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer)));
    const stopDeadline = whenAborted(signal, (reason) => request.destroy(reason));
    const settle = () => {
      clearTimeout(connectTimer);
      stopDeadline();
    };
    request.once('response', (response) => {
      settle();
      resolve(response);
    });
    // `on`, not `once`: a socket error after the response would otherwise be thrown.
    request.on('error', (error) => {
      settle();
      reject(networkError(server, error));
    });
    request.end(hop.body);
  });
}

/**
 * A fresh agent per hop, without keep-alive: a socket is never shared between hops or requests,
 * and the allow-list entries it is given are the exact addresses this hop may use.
 */
function filteringAgent(secure: boolean, destination: Destination): http.Agent {
  const options = { keepAlive: false, allowIPAddressList: destination.allowed };
  return secure ? new RequestFilteringHttpsAgent(options) : new RequestFilteringHttpAgent(options);
}

function accept(response: IncomingMessage, url: URL, settings: Settings, deadline: Deadline, where: Where): OutboundResponse {
  const status = response.statusCode!;
  const server = serverLabel(where);
  if (status < 200 || status > 299) {
    response.destroy();
    throw new OutboundError('http_status', `${server} answered HTTP ${status}`, status);
  }
  if (Number(response.headers['content-length']) > settings.maxBytes) {
    response.destroy();
    throw tooLarge(server, settings.maxBytes);
  }
  return { status, headers: response.headers, url, body: cappedBody(response, settings.maxBytes, deadline, server) };
}

function tooLarge(server: string, maxBytes: number): OutboundError {
  return new OutboundError('too_large', `The response of ${server} is larger than ${maxBytes} bytes`);
}

/** The response body, failing as soon as it passes `maxBytes` or the deadline passes. */
function cappedBody(response: IncomingMessage, maxBytes: number, deadline: Deadline, server: string): Readable {
  let received = 0;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > maxBytes) callback(tooLarge(server, maxBytes));
      else callback(null, chunk);
    },
  });
  const stopDeadline = whenAborted(deadline.signal, (reason) => body.destroy(reason));
  // A connection lost mid-body destroys the response with an error (ECONNRESET, "aborted").
  response.on('error', (error) => body.destroy(networkError(server, error)));
  body.once('close', () => {
    stopDeadline();
    deadline.clear();
    response.destroy();
  });
  // Readers (for await, pipeline) get the error through their own listeners; a body nobody reads
  // is destroyed at the deadline, and that must not be an uncaught 'error' that ends the process.
  body.on('error', () => {});
  response.pipe(body);
  return body;
}
