import { transaction, type Pool, type Queryable } from '../db/pool.js';
import { findFollowup, updateFollowup } from '../followups/repository.js';
import type { FollowupStatus } from '../followups/schema.js';
import type { Caller } from '../followups/service.js';
import { errors, owned } from '../http/errors.js';
import { readPage, type PageRequest } from '../http/pagination.js';
import { parseTimestamp } from '../time/timestamp.js';
import {
  countClick, countOpen, ensurePixelLink, findProviderEvent, insertClickLink, insertEvent, linkByTokenHash, listEvents,
  lockFollowupStatus, type EventRow, type NewEvent,
} from './repository.js';
import type { ProviderEventBody } from './schema.js';
import { classifyAgent, classifyProviderAgent } from './user-agents.js';
import { isTokenShaped, newClickToken, pixelToken, tokenHash } from './tokens.js';
import { comparableUrl, destinationUrl } from './urls.js';

/** History source of the status changes tracking makes. */
const SOURCE = 'tracking';

interface Visit {
  userAgent: string | undefined;
  method: string;
}

/** A new tracked link to `url` for a followup of the caller's company (403 / 404 as for a read). */
export async function createClickLink(pool: Pool, companyId: number, followupId: number | undefined, url: string) {
  owned(followupId === undefined ? undefined : await findFollowup(companyId, followupId, pool), 'followup');
  const token = newClickToken();
  const destination = destinationUrl(url);
  await insertClickLink(companyId, followupId!, tokenHash(token), { url: destination, normalized: comparableUrl(destination)! }, pool)
    .catch(unlessFollowupDeleted);
  return { token, destination };
}

/** The followup's pixel token, recorded on first request (403 / 404 as for a read). */
export async function openPixel(pool: Pool, trackingKey: Buffer, companyId: number, followupId: number | undefined): Promise<string> {
  owned(followupId === undefined ? undefined : await findFollowup(companyId, followupId, pool), 'followup');
  const token = pixelToken(trackingKey, followupId!);
  await ensurePixelLink(companyId, followupId!, tokenHash(token), pool).catch(unlessFollowupDeleted);
  return token;
}

/**
 * The followup was found, then deleted with its debt before a row naming it was written: the
 * foreign key refuses the row, and the caller is told what a later request would say (404).
 */
function unlessFollowupDeleted(error: unknown): never {
  throw isForeignKeyViolation(error) ? errors.notFound('followup') : error;
}

function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23503';
}

/** What record() answers when the followup was deleted (with its debt) while its event was being written. */
const GONE = Symbol('followup deleted');

/** Records an open for a pixel token; a token that names no pixel counts nothing. */
export async function recordOpen(pool: Pool, token: string, visit: Visit): Promise<void> {
  const link = isTokenShaped(token) ? await linkByTokenHash(tokenHash(token), pool) : undefined;
  if (link?.kind !== 'open') return;
  const agent = classifyAgent(visit.userAgent, visit.method);
  // A followup deleted meanwhile has nothing left to count: the image is answered all the same.
  await record(pool, link.company_id, link.followup_id, {
    type: 'opened', linkId: link.id, url: null, normalizedUrl: null, occurredAt: null, ...agent, providerEventId: null,
  });
}

/** Records a click for a link token and returns where it leads; undefined for a token that names no link. */
export async function recordClick(pool: Pool, token: string, visit: Visit): Promise<string | undefined> {
  const link = isTokenShaped(token) ? await linkByTokenHash(tokenHash(token), pool) : undefined;
  if (link?.kind !== 'click') return undefined;
  const agent = classifyAgent(visit.userAgent, visit.method);
  const recorded = await record(pool, link.company_id, link.followup_id, {
    type: 'clicked', linkId: link.id, url: link.url, normalizedUrl: link.normalized_url, occurredAt: null, ...agent, providerEventId: null,
  });
  // The link went with its followup while the click was being recorded: it is unknown now.
  return recorded === GONE ? undefined : link.url!;
}

export type ProviderOutcome = { created: EventRow } | { existing: EventRow };

/**
 * An event reported by the email provider, counted like ours. The provider's id makes a retry
 * harmless: the event it names is returned and nothing is counted again, even when two copies
 * arrive at once (the second insert waits for the first and then conflicts).
 */
export async function recordProviderEvent(pool: Pool, caller: Caller, followupId: number | undefined, body: ProviderEventBody): Promise<ProviderOutcome> {
  owned(followupId === undefined ? undefined : await findFollowup(caller.companyId, followupId, pool), 'followup');
  const url = body.type === 'clicked' && body.url !== undefined ? destinationUrl(body.url) : null;
  const event: NewEvent = {
    type: body.type,
    linkId: null,
    url,
    normalizedUrl: url && comparableUrl(url)!,
    occurredAt: body.occurred_at === undefined ? null : parseTimestamp(body.occurred_at)!,
    // Only an open or a click can be a machine's; delivery and bounce are the provider's own word.
    ...(body.type === 'opened' || body.type === 'clicked' ? classifyProviderAgent(body.user_agent) : classifyProviderAgent(undefined)),
    providerEventId: body.provider_event_id ?? null,
  };
  const created = await record(pool, caller.companyId, followupId!, event);
  if (created === GONE) throw errors.notFound('followup');
  if (created) return { created };
  // Only an event with a provider id can meet an earlier one.
  const existing = await findProviderEvent(caller.companyId, body.provider_event_id!, pool);
  // Only a committed event makes an insert conflict, and events are never deleted but with their followup.
  if (!existing) throw errors.conflict('The event with this provider_event_id was being deleted: retry');
  return { existing };
}

/**
 * The event and what it changes on the followup, in one transaction; undefined when the provider
 * id was already used, GONE when the followup was deleted meanwhile (the event's foreign key).
 */
function record(pool: Pool, companyId: number, followupId: number, event: NewEvent): Promise<EventRow | undefined | typeof GONE> {
  return transaction(pool, async (tx): Promise<EventRow | undefined> => {
    // A person's event locks the followup before the event row is written: the insert's foreign
    // key takes a share lock on the followup that would otherwise deadlock with the status
    // change of a concurrent open holding the row.
    if (!event.machine) await lockFollowupStatus(companyId, followupId, tx);
    const row = await insertEvent(companyId, followupId, event, tx);
    if (row && !event.machine) await apply(tx, companyId, followupId, row);
    return row;
  }).catch((error: unknown) => {
    if (isForeignKeyViolation(error)) return GONE;
    throw error;
  });
}

/** What a person's event changes: the counters, and the status it shows the message reached. */
async function apply(tx: Queryable, companyId: number, followupId: number, event: EventRow): Promise<void> {
  const setStatus = (status: 'read' | 'delivered' | 'failed') => updateFollowup(companyId, followupId, { status }, SOURCE, tx);
  switch (event.type) {
    case 'opened': {
      const counted = await countOpen(companyId, followupId, event.occurred_at, tx);
      if (counted?.email_open_count === 1 && (counted.status === 'sent' || counted.status === 'delivered')) await setStatus('read');
      return;
    }
    case 'clicked':
      await countClick(companyId, followupId, tx);
      return;
    case 'delivered':
      if ((await lockFollowupStatus(companyId, followupId, tx)) === 'sent') await setStatus('delivered');
      return;
    case 'bounced':
      if (UNSETTLED.has((await lockFollowupStatus(companyId, followupId, tx))!)) await setStatus('failed');
  }
}

/**
 * The statuses a bounce moves to `failed`: those of a message not yet known to have reached
 * anyone. A late bounce leaves alone an open (`read`) and an outcome someone recorded
 * (`deal_found`, `no_answer`, `cancelled`...), which it would otherwise erase.
 */
const UNSETTLED: ReadonlySet<FollowupStatus> = new Set(['on_hold', 'scheduled', 'in_progress', 'sent', 'delivered']);

/** A page of the followup's tracking events, oldest first; 404 / 403 as for a read. */
export async function trackingEvents(pool: Pool, companyId: number, followupId: number | undefined, page: PageRequest) {
  owned(followupId === undefined ? undefined : await findFollowup(companyId, followupId, pool), 'followup');
  return readPage(page, (window) => listEvents(companyId, followupId!, window, pool));
}
