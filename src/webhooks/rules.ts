import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { AllowList } from '../net/allow-list.js';
import type { ErrorDetails } from '../http/errors.js';
import { secretProblem } from './secrets.js';

/** What the API is told about subscription URLs (WEBHOOK_ALLOW_HTTP, OUTBOUND_ALLOW). */
export interface WebhookUrlRules {
  allowHttp: boolean;
  allow: AllowList;
}

/**
 * What is wrong with a subscription URL beyond its shape (the schema checks that): a scheme the
 * server does not deliver to, credentials, or a literal private address. A host name is not
 * resolved here: what it resolves to at delivery time is what counts, and is checked then.
 */
export function urlProblem(text: string, rules: WebhookUrlRules): string | undefined {
  const url = new URL(text);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && rules.allowHttp)) {
    return rules.allowHttp ? 'url must be an http or https URL' : 'url must be an https URL';
  }
  if (url.username !== '' || url.password !== '') return 'url must not carry a user name or password';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0 && ipaddr.parse(host).range() !== 'unicast' && !rules.allow.permits(host, host)) {
    return 'url must not point to a private, loopback or reserved address';
  }
  return undefined;
}

/** The problems of the fields a create or update sets, added to `details`. */
export function subscriptionProblems(body: { url?: string; secret?: string } | null | undefined, rules: WebhookUrlRules, details: ErrorDetails): void {
  // No body, `null`, an array: the schema's problems say so; there are no fields to look at.
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    details.body ??= 'Request body must be a JSON object';
    return;
  }
  if (body.url !== undefined && !('url' in details)) {
    const problem = urlProblem(body.url, rules);
    if (problem) details.url = problem;
  }
  if (body.secret !== undefined && !('secret' in details)) {
    const problem = secretProblem(body.secret);
    if (problem) details.secret = problem;
  }
}

/** The event types once each, in the order given. */
export function distinctEvents(events: readonly string[]): string[] {
  return [...new Set(events)];
}
