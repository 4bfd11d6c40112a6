import type { MediaContext } from '../app-context.js';
import { atomically, retryTransient, transaction, type Pool, type Queryable } from '../db/pool.js';
import { enqueue } from '../jobs/queue.js';
import { INGEST_ATTEMPTS, INGEST_TASK } from './ingest-task.js';
import { errors, owned } from '../http/errors.js';
import type { IdCodec } from '../security/encrypted-id.js';
import { parseTimestamp } from '../time/timestamp.js';
import { debtOwnership } from '../debts/repository.js';
import { pageInfo, readPage, type PageRequest } from '../http/pagination.js';
import { encodeCursor, parseListQuery, type ListRequest } from './list-query.js';
import { countFollowups, listFollowups } from './list-repository.js';
import { cancelRecordingIngest, findFollowup, insertFollowup, listChanges, lockAudioUrl, markRecordingPending, updateFollowup, WRITABLE_COLUMNS, type FollowupRow, type FollowupValues } from './repository.js';
import type { CreateFollowupBody, ListFollowupsQuery, UpdateFollowupBody } from './schema.js';

export interface Caller {
  companyId: number;
  /** History source, e.g. `api:rlc_…`. */
  source: string;
}

export type CreateOutcome = { created: FollowupRow } | { existing: FollowupRow };

/**
 * Creates a followup, or returns the debt's followup with the same call_id, in `db` (the
 * transaction of an Idempotency-Key, when there is one). A debt that is not the caller's is a
 * 400 on `debt_id`, as the contract says.
 */
export async function createFollowup(
  db: Queryable,
  ids: IdCodec,
  caller: Caller,
  body: CreateFollowupBody,
  media: OwnMedia,
): Promise<CreateOutcome> {
  const debtId = ids.decode('debt', body.debt_id);
  const debtNotFound = () => errors.validation({ debt_id: 'Debt not found: debt_id must be the ID of a debt of your company' });
  const insert = async (tx: Queryable) => {
    let result;
    try {
      result = debtId === undefined ? undefined : await insertFollowup(caller.companyId, debtId, createValues(body), caller.source, tx);
    } catch (error) {
      // The debt was deleted between the ownership check and the foreign-key check.
      if ((error as { code?: string }).code === '23503') throw debtNotFound();
      throw error;
    }
    if (!result) throw debtNotFound();
    if ('contended' in result) throw errors.conflict('call_id was being changed by other requests on this debt: retry');
    if ('created' in result) await ingestIfRemote(caller.companyId, result.created, media, tx);
    return result;
  };
  // A recording to download is a job, committed with the followup or not at all.
  return ingestWanted(body.audio_url, media) ? atomically(db, insert) : insert(db);
}

/** What writes need to know of media: which URLs are Relance's own (never downloaded again). */
type OwnMedia = Pick<MediaContext, 'ownUrlPrefix'>;

/** An http(s) URL that is not one of Relance's own: its recording is downloaded into storage. */
function ingestWanted(url: string | null | undefined, media: OwnMedia): url is string {
  if (!url || !/^https?:\/\//i.test(url)) return false;
  return !(media.ownUrlPrefix && url.startsWith(media.ownUrlPrefix));
}

async function ingestIfRemote(companyId: number, row: FollowupRow, media: OwnMedia, tx: Queryable): Promise<FollowupRow> {
  if (!ingestWanted(row.audio_url, media)) return row;
  await markRecordingPending(companyId, row.id, tx);
  // One download per followup at a time: a newer URL replaces a pending job for an older one.
  await enqueue(tx, INGEST_TASK, { followup_id: row.id, url: row.audio_url }, { maxAttempts: INGEST_ATTEMPTS, jobKey: `ingest:${row.id}` });
  return { ...row, recording_state: 'pending', recording_error: null };
}

/** Applies the fields sent; 403/404 as for a read; 409 when call_id is taken on the debt. */
export async function changeFollowup(pool: Pool, caller: Caller, id: number, body: UpdateFollowupBody, media: OwnMedia): Promise<FollowupRow> {
  const changes: Partial<FollowupValues> = {};
  for (const column of WRITABLE_COLUMNS) {
    if (!(column in body)) continue;
    const value = body[column];
    (changes as Record<string, unknown>)[column] =
      column === 'call_date' || column === 'scheduled_at' ? toDate(value as string | null) : column === 'call_id' ? callId(value as string | null) : value;
  }
  try {
    // One statement: two updates swapping call_ids on a debt can deadlock on its unique index,
    // and the victim is simply run again.
    const update = (db: Queryable) => updateFollowup(caller.companyId, id, changes, caller.source, db);
    if (!('audio_url' in changes)) return owned(await retryTransient(() => update(pool)), 'followup');
    // A new audio_url is downloaded (a job, committed with the change); a cleared one ends any
    // download still waiting for the old one.
    return await transaction(pool, async (tx) => {
      const before = await lockAudioUrl(caller.companyId, id, tx);
      const row = owned(await update(tx), 'followup');
      if (ingestWanted(changes.audio_url, media)) {
        // The URL it already has (a client sending every field again): the recording stored or
        // being downloaded from it stays as it is; only one that failed is tried again.
        if (before?.audio_url === row.audio_url && (row.recording_state === 'stored' || row.recording_state === 'pending')) return row;
        return ingestIfRemote(caller.companyId, row, media, tx);
      }
      // Cleared, or one of our own links (never downloaded): no job waits for it any more.
      return (await cancelRecordingIngest(caller.companyId, id, tx)) ?? row;
    });
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'followups_debt_call_id_key') {
      throw errors.conflict('call_id is already used by another followup of this debt');
    }
    throw error;
  }
}

/** Body fields with the contract's defaults applied and timestamps parsed (already validated). */
function createValues(body: CreateFollowupBody): FollowupValues {
  return {
    type: body.type ?? 'call',
    status: body.status ?? 'on_hold',
    call_date: toDate(body.call_date),
    scheduled_at: toDate(body.scheduled_at),
    summary: body.summary ?? null,
    notes: body.notes ?? null,
    call_id: callId(body.call_id),
    audio_url: body.audio_url ?? null,
    duration_ms: body.duration_ms ?? null,
    phone_number_used: body.phone_number_used ?? null,
    direction: body.direction ?? null,
    disconnection_reason: body.disconnection_reason ?? null,
    is_retry: body.is_retry ?? false,
  };
}

/** An empty call_id names no call: it must not de-duplicate unrelated followups. */
function callId(value: string | null | undefined): string | null {
  return value ? value : null;
}

function toDate(value: string | null | undefined): Date | null {
  return value == null ? null : parseTimestamp(value)!;
}

export interface FollowupPage {
  rows: FollowupRow[];
  pagination: { total: number; page: number; limit: number; pages: number } | { limit: number; next_cursor: string | null };
}

/** A page of the company's followups matching the request, in page or cursor mode. */
export async function listCompanyFollowups(pool: Pool, ids: IdCodec, companyId: number, request: ListRequest): Promise<FollowupPage> {
  const { filters, order, limit } = request;
  if (request.cursor) {
    const rows = await listFollowups(companyId, filters, order, { limit, after: request.cursor.after }, pool);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? encodeCursor(request.sort, { key: last.sort_key, id: last.id }, ids) : null;
    return { rows: page, pagination: { limit, next_cursor: nextCursor } };
  }
  const page = request.page!;
  // The page and its total are independent queries: run them side by side.
  const [rows, total] = await Promise.all([
    listFollowups(companyId, filters, order, { limit, offset: (page.page - 1) * limit }, pool),
    countFollowups(companyId, filters, pool),
  ]);
  return { rows: rows.slice(0, limit), pagination: pageInfo(page, total) };
}

/**
 * The same for one debt of the company: 404 for an unknown debt, 403 for another company's,
 * settled before the query is read (whose `debt_id`, if any, the path overrides).
 */
export async function listDebtFollowups(
  pool: Pool,
  ids: IdCodec,
  companyId: number,
  debtId: number | undefined,
  query: ListFollowupsQuery,
): Promise<FollowupPage> {
  owned(debtId === undefined ? undefined : await debtOwnership(companyId, debtId, pool), 'debt');
  const { debt_id: _ignored, ...rest } = query;
  const request = parseListQuery(rest, ids);
  return listCompanyFollowups(pool, ids, companyId, { ...request, filters: { ...request.filters, debtId } });
}

/** A page of the followup's changes, oldest first; 404 / 403 as for a read. */
export async function followupHistory(pool: Pool, companyId: number, id: number | undefined, page: PageRequest) {
  owned(id === undefined ? undefined : await findFollowup(companyId, id, pool), 'followup');
  return readPage(page, (window) => listChanges(companyId, id!, window, pool));
}
