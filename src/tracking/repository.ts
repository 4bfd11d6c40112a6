import { selectPage, type PageWindow, type RowPage } from '../db/page.js';
import type { Queryable } from '../db/pool.js';
import type { FollowupStatus } from '../followups/schema.js';
import type { EventType } from './schema.js';

export interface LinkRow {
  id: number;
  company_id: number;
  followup_id: number;
  kind: 'open' | 'click';
  url: string | null;
  normalized_url: string | null;
}

export interface EventRow {
  id: number;
  followup_id: number;
  type: EventType;
  url: string | null;
  occurred_at: Date;
  user_agent_class: string;
  machine: boolean;
}

export interface NewEvent {
  type: EventType;
  linkId: number | null;
  url: string | null;
  normalizedUrl: string | null;
  occurredAt: Date | null;
  userAgentClass: string;
  machine: boolean;
  providerEventId: string | null;
}

const LINK_COLUMNS = 'id, company_id, followup_id, kind, url, normalized_url';
const EVENT_COLUMNS = 'id, followup_id, type, url, occurred_at, user_agent_class, machine';

/**
 * The link a token's hash names, whatever its company: the only lookup without a company id,
 * because on /t/... the token is the caller's only credential, and it names the company.
 */
export async function linkByTokenHash(hash: Buffer, db: Queryable): Promise<LinkRow | undefined> {
  const { rows } = await db.query<LinkRow>(`SELECT ${LINK_COLUMNS} FROM tracking_links WHERE token_hash = $1`, [hash]);
  return rows[0];
}

export async function insertClickLink(
  companyId: number,
  followupId: number,
  hash: Buffer,
  urls: { url: string; normalized: string },
  db: Queryable,
): Promise<void> {
  await db.query(
    `INSERT INTO tracking_links (company_id, followup_id, kind, token_hash, url, normalized_url) VALUES ($1, $2, 'click', $3, $4, $5)`,
    [companyId, followupId, hash, urls.url, urls.normalized],
  );
}

/**
 * Records the followup's pixel once; asking again finds it in place. One per tracking key: after
 * a key reset the new pixel is recorded beside the one already sent in messages.
 */
export async function ensurePixelLink(companyId: number, followupId: number, hash: Buffer, db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO tracking_links (company_id, followup_id, kind, token_hash) VALUES ($1, $2, 'open', $3)
     ON CONFLICT (token_hash) DO NOTHING`,
    [companyId, followupId, hash],
  );
}

/** The new event; undefined when the company already has an event with this provider_event_id. */
export async function insertEvent(companyId: number, followupId: number, event: NewEvent, db: Queryable): Promise<EventRow | undefined> {
  const { rows } = await db.query<EventRow>(
    `INSERT INTO tracking_events
       (company_id, followup_id, type, link_id, url, normalized_url, occurred_at, user_agent_class, machine, provider_event_id)
     VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()), $8, $9, $10)
     ON CONFLICT (company_id, provider_event_id) WHERE provider_event_id IS NOT NULL DO NOTHING
     RETURNING ${EVENT_COLUMNS}`,
    [companyId, followupId, event.type, event.linkId, event.url, event.normalizedUrl, event.occurredAt, event.userAgentClass, event.machine, event.providerEventId],
  );
  return rows[0];
}

export async function findProviderEvent(companyId: number, providerEventId: string, db: Queryable): Promise<EventRow | undefined> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM tracking_events WHERE company_id = $1 AND provider_event_id = $2`,
    [companyId, providerEventId],
  );
  return rows[0];
}

/**
 * Counts a person's open in the row itself (n = n + 1 under the row lock, so concurrent opens
 * all count) and returns the count and status after it: a count of 1 is the first human open.
 * email_first_opened_at is the earliest open known, whatever the order they are reported in (a
 * provider's event may arrive after a later open of the pixel). The counters are not written to
 * the history: they are not changes anyone made. Each counted open is a `followup.email_opened`
 * event (and each click below a `followup.email_clicked`), written by the same statement.
 */
export async function countOpen(
  companyId: number,
  followupId: number,
  at: Date | null,
  db: Queryable,
): Promise<{ email_open_count: number; status: FollowupStatus } | undefined> {
  const { rows } = await db.query<{ email_open_count: number; status: FollowupStatus }>(
    `WITH upd AS (
       UPDATE followups
       SET email_open_count = email_open_count + 1, email_opened = true,
           email_first_opened_at = LEAST(email_first_opened_at, COALESCE($3, now())), updated_at = now()
       WHERE company_id = $1 AND id = $2
       RETURNING *
     ), events AS (
       SELECT relance_emit(company_id, ARRAY['followup.email_opened'], 'followup', id, to_jsonb(upd), NULL) FROM upd
     )
     SELECT email_open_count, status FROM upd, events`,
    [companyId, followupId, at],
  );
  return rows[0];
}

export async function countClick(companyId: number, followupId: number, db: Queryable): Promise<void> {
  await db.query(
    `WITH upd AS (
       UPDATE followups SET email_click_count = email_click_count + 1, email_clicked = true, updated_at = now()
       WHERE company_id = $1 AND id = $2
       RETURNING *
     )
     SELECT relance_emit(company_id, ARRAY['followup.email_clicked'], 'followup', id, to_jsonb(upd), NULL) FROM upd`,
    [companyId, followupId],
  );
}

/** The followup's status, its row locked until the transaction ends (the change that follows reads it). */
export async function lockFollowupStatus(companyId: number, followupId: number, tx: Queryable): Promise<FollowupStatus | undefined> {
  const { rows } = await tx.query<{ status: FollowupStatus }>(
    'SELECT status FROM followups WHERE company_id = $1 AND id = $2 FOR NO KEY UPDATE',
    [companyId, followupId],
  );
  return rows[0]?.status;
}

/** One page of a followup's events, oldest first, and their total. */
export async function listEvents(companyId: number, followupId: number, window: PageWindow, db: Queryable): Promise<RowPage<EventRow>> {
  return selectPage<EventRow>(db, {
    select: `SELECT ${EVENT_COLUMNS} FROM tracking_events WHERE company_id = $1 AND followup_id = $2 ORDER BY occurred_at, id`,
    count: 'SELECT count(*)::int AS n FROM tracking_events WHERE company_id = $1 AND followup_id = $2',
  }, [companyId, followupId], window);
}

/**
 * The followup of the debt whose human click on `normalizedUrl` is the last one in
 * [from, to]: the one a payment at `to` is attributed to.
 */
export async function lastHumanClick(
  companyId: number,
  debtId: number,
  normalizedUrl: string,
  range: { from: Date; to: Date },
  db: Queryable,
): Promise<number | undefined> {
  const { rows } = await db.query<{ followup_id: number }>(
    `SELECT e.followup_id FROM tracking_events e JOIN followups f ON f.id = e.followup_id
     WHERE e.company_id = $1 AND f.company_id = $1 AND f.debt_id = $2 AND e.type = 'clicked' AND NOT e.machine
       AND e.normalized_url = $3 AND e.occurred_at >= $4 AND e.occurred_at <= $5
     ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1`,
    [companyId, debtId, normalizedUrl, range.from, range.to],
  );
  return rows[0]?.followup_id;
}
