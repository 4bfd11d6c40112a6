/**
 * Why an outbound request failed. The reason and the message may be shown to API users (a
 * recording that could not be fetched, a webhook that could not be delivered): a message names
 * at most the host of the URL they gave, never a path or query (presigned URLs carry secrets
 * there), credentials, a resolved address or the URL a server redirected to.
 */
export type OutboundFailure =
  | 'invalid_url'
  | 'blocked_address'
  | 'timeout'
  | 'too_large'
  | 'too_many_redirects'
  | 'bad_redirect'
  | 'http_status'
  | 'network';

export class OutboundError extends Error {
  constructor(
    readonly reason: OutboundFailure,
    message: string,
    /** The final HTTP status, for `http_status`; the redirect's, for `too_many_redirects`. */
    readonly status?: number,
    /** The underlying error, for the log only: it may name internal addresses. */
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundError';
  }
}

/** Which request of a chain failed: the host of the URL the user gave, and the hop (0: that URL). */
export interface Where {
  host: string;
  hop: number;
}

/** What a message calls a hop's server: the host the user gave, and no more for those a redirect chose. */
export function serverLabel(where: Where): string {
  return where.hop === 0 ? where.host : `the server ${where.host} redirected to`;
}

export function blockedAddress(where: Where, literal: boolean): OutboundError {
  const what = where.hop > 0
    ? `${where.host} redirected to a private, loopback or reserved address`
    : `${where.host} ${literal ? 'is' : 'resolves to'} a private, loopback or reserved address`;
  return new OutboundError('blocked_address', `${what}: Relance does not connect there`);
}

const NETWORK_MESSAGES: Record<string, (server: string) => string> = {
  ENOTFOUND: (server) => `${server} could not be resolved`,
  EAI_AGAIN: (server) => `${server} could not be resolved (temporary DNS failure)`,
  ECONNREFUSED: (server) => `${server} refused the connection`,
  ECONNRESET: (server) => `${server} closed the connection`,
  EHOSTUNREACH: (server) => `${server} is unreachable`,
  ENETUNREACH: (server) => `${server} is unreachable`,
};

/** A socket, DNS or TLS failure, worded by its code alone. */
export function networkError(server: string, cause: unknown): OutboundError {
  if (cause instanceof OutboundError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const message = code && Object.hasOwn(NETWORK_MESSAGES, code)
    ? NETWORK_MESSAGES[code]!(server)
    : `The connection to ${server} failed${code ? ` (${code})` : ''}`;
  return new OutboundError('network', message, undefined, { cause });
}
