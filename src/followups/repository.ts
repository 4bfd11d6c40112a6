import type { Lookup } from '../db/lookup.js';
import { selectPage, type PageWindow, type RowPage } from '../db/page.js';
import type { Queryable } from '../db/pool.js';
import type { FollowupStatus, FollowupType } from './schema.js';

export interface FollowupRow {
  id: number;
  company_id: number;
  debt_id: number;
  status: FollowupStatus;
  type: FollowupType;
  call_date: Date | null;
  scheduled_at: Date | null;
  summary: string | null;
  notes: string | null;
  call_id: string | null;
  audio_url: string | null;
  pdf_url: string | null;
  duration_ms: number | null;
  disconnection_reason: string | null;
  direction: 'inbound' | 'outbound' | null;
  phone_number_used: string | null;
  is_retry: boolean;
  processed_at: Date;
  triggered_payment: boolean;
  email_opened: boolean;
  email_open_count: number;
  email_first_opened_at: Date | null;
  email_clicked: boolean;
  email_click_count: number;
  created_at: Date;
  updated_at: Date;
  activity_at: Date;
  audio_key: string | null;
  audio_content_type: string | null;
  audio_size: string | null;
  pdf_key: string | null;
  pdf_content_type: string | null;
  pdf_size: string | null;
  recording_state: 'pending' | 'stored' | 'failed' | null;
  recording_error: string | null;
}

/** The client-writable columns and their SQL types, in a fixed order shared by the SQL below. */
const COLUMN_TYPES = {
  type: 'text',
  status: 'text',
  call_date: 'timestamptz',
  scheduled_at: 'timestamptz',
  summary: 'text',
  notes: 'text',
  call_id: 'text',
  audio_url: 'text',
  duration_ms: 'bigint',
  phone_number_used: 'text',
  direction: 'text',
  disconnection_reason: 'text',
  is_retry: 'boolean',
} as const;
export type WritableColumn = keyof typeof COLUMN_TYPES;
export const WRITABLE_COLUMNS = Object.keys(COLUMN_TYPES) as WritableColumn[];
export type FollowupValues = { [K in WritableColumn]: FollowupRow[K] };
/** Columns only the service writes (a payment's attribution), updated and recorded like the others. */
const SERVICE_COLUMN_TYPES = { triggered_payment: 'boolean' } as const;
const UPDATE_COLUMN_TYPES = { ...COLUMN_TYPES, ...SERVICE_COLUMN_TYPES };
const UPDATE_COLUMNS = Object.keys(UPDATE_COLUMN_TYPES) as (keyof typeof UPDATE_COLUMN_TYPES)[];
export type FollowupChanges = Partial<FollowupValues> & { triggered_payment?: boolean };

/** The columns whose history values are timestamps. */
export const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set(['call_date', 'scheduled_at']);


/**
 * Every column of a followup row, listed: the named statements below return exactly these, so a
 * column added by a later migration cannot change the result type of a statement a running
 * process has prepared (PostgreSQL refuses such a cached plan) during a rolling deploy.
 */
const ROW_COLUMNS = [
  'id', 'company_id', 'debt_id', 'status', 'type', 'call_date', 'scheduled_at', 'summary', 'notes', 'call_id', 'audio_url',
  'pdf_url', 'duration_ms', 'disconnection_reason', 'direction', 'phone_number_used', 'is_retry', 'processed_at',
  'triggered_payment', 'email_opened', 'email_open_count', 'email_first_opened_at', 'email_clicked', 'email_click_count',
  'created_at', 'updated_at', 'activity_at', 'audio_key', 'audio_content_type', 'audio_size', 'pdf_key', 'pdf_content_type',
  'pdf_size', 'recording_state', 'recording_error',
] as const satisfies readonly (keyof FollowupRow)[];
const ROW = ROW_COLUMNS.join(', ');
const rowOf = (alias: string) => ROW_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

// The history rows and webhook events of a create or update are written by the same statement
// as the change: one round trip, and no change without its history and its events. The row's
// jsonb (the webhook snapshot, and where each history value is read from) is computed once.
const INSERT_SQL = `
  WITH ins AS (
    INSERT INTO followups AS f (company_id, debt_id, ${WRITABLE_COLUMNS.join(', ')})
    SELECT d.company_id, d.id, ${WRITABLE_COLUMNS.map((c, i) => `$${i + 4}::${COLUMN_TYPES[c]}`).join(', ')}
    FROM debts d
    WHERE d.company_id = $1 AND d.id = $2
    ON CONFLICT (debt_id, call_id) WHERE call_id IS NOT NULL DO NOTHING
    RETURNING ${rowOf('f')}, to_jsonb(f) AS snapshot
  ), changes AS (
    INSERT INTO followup_changes (company_id, followup_id, field, from_value, to_value, source)
    SELECT ins.company_id, ins.id, k.field, NULL, ins.snapshot -> k.field, $3
    FROM ins CROSS JOIN unnest($${WRITABLE_COLUMNS.length + 4}::text[]) WITH ORDINALITY AS k(field, n)
    WHERE ins.snapshot -> k.field <> 'null'::jsonb
    ORDER BY k.n
  ), events AS (
    SELECT relance_emit(ins.company_id, followup_event_types(true, NULL, ins.status), 'followup', ins.id, ins.snapshot, NULL)
    FROM ins
  )
  SELECT ${rowOf('ins')} FROM ins, events`;

const INSERT_ATTEMPTS = 3;

export type InsertResult = { created: FollowupRow } | { existing: FollowupRow } | { contended: true } | undefined;

/**
 * Inserts a followup on a debt of the company, with its creation history. A followup of the same
 * debt with the same call_id is returned as `existing` instead of duplicated; undefined means
 * the company has no such debt; `contended` that the call_id kept changing hands under it.
 * Ownership check and insert are one statement: they cannot race.
 */
export async function insertFollowup(
  companyId: number,
  debtId: number,
  values: FollowupValues,
  source: string,
  db: Queryable,
): Promise<InsertResult> {
  const params = [companyId, debtId, source, ...WRITABLE_COLUMNS.map((c) => values[c]), WRITABLE_COLUMNS];
  // The followup holding the call_id can lose it (an update) between the insert that met it and
  // the read of it: then the call_id is free again and the insert is tried anew.
  for (let attempt = 1; attempt <= INSERT_ATTEMPTS; attempt++) {
    const { rows } = await db.query<FollowupRow>({ name: 'followup-insert', text: INSERT_SQL, values: params });
    if (rows[0]) return { created: rows[0] };
    if (values.call_id === null) return undefined;
    const existing = await db.query<FollowupRow | { id: null }>(
      `SELECT ${rowOf('f')} FROM debts d LEFT JOIN followups f ON f.debt_id = d.id AND f.call_id = $3
       WHERE d.company_id = $1 AND d.id = $2`,
      [companyId, debtId, values.call_id],
    );
    const row = existing.rows[0];
    if (!row) return undefined;
    if (row.id !== null) return { existing: row as FollowupRow };
  }
  return { contended: true };
}

const FIND_SQL = `SELECT ${ROW} FROM followups WHERE id = $1`;

/** A followup of the company; `forbidden` when it exists but belongs to another company. */
export async function findFollowup(companyId: number, id: number, db: Queryable): Promise<Lookup<FollowupRow>> {
  const { rows } = await db.query<FollowupRow>({ name: 'followup-find', text: FIND_SQL, values: [id] });
  const row = rows[0];
  if (!row) return undefined;
  return row.company_id === companyId ? { found: row } : { forbidden: true };
}

/**
 * Applies the given fields (and only those) to a followup of the company and records each field
 * whose value changed. The row is locked while it changes, so concurrent updates of one followup
 * apply one after the other and each history entry's `from` is the value it replaced. The lock is
 * FOR NO KEY UPDATE (no update changes the id): a transaction already holding that lock (tracking)
 * does not have to upgrade it, which would wait for every row being inserted that refers to the
 * followup (a payment attributed to it) while that transaction waits for the followup: a deadlock.
 */
export async function updateFollowup(
  companyId: number,
  id: number,
  changes: FollowupChanges,
  source: string,
  db: Queryable,
): Promise<Lookup<FollowupRow>> {
  const fields = UPDATE_COLUMNS.filter((c) => c in changes);
  const params: unknown[] = [id, companyId, source, fields];
  const assignments = fields.map((field) => {
    params.push(changes[field]);
    return { field, value: `$${params.length}::${UPDATE_COLUMN_TYPES[field]}` };
  });
  const changed = assignments.map(({ field, value }) => `f.${field} IS DISTINCT FROM ${value}`).join(' OR ') || 'false';
  const sql = `
    WITH old AS (
      SELECT id, to_jsonb(followups) AS snapshot FROM followups WHERE id = $1 AND company_id = $2 FOR NO KEY UPDATE
    ), upd AS (
      UPDATE followups f
      SET ${assignments.map(({ field, value }) => `${field} = ${value}, `).join('')}
          processed_at = now(),
          updated_at = CASE WHEN ${changed} THEN now() ELSE f.updated_at END
      FROM old
      WHERE f.id = old.id
      RETURNING ${rowOf('f')}, to_jsonb(f) AS snapshot
    ), changes AS (
      INSERT INTO followup_changes (company_id, followup_id, field, from_value, to_value, source)
      SELECT upd.company_id, upd.id, k.field, old.snapshot -> k.field, upd.snapshot -> k.field, $3
      FROM old JOIN upd USING (id) CROSS JOIN unnest($4::text[]) WITH ORDINALITY AS k(field, n)
      WHERE (old.snapshot -> k.field) IS DISTINCT FROM (upd.snapshot -> k.field)
      ORDER BY k.n
      RETURNING field, from_value, to_value
    ), events AS (
      SELECT relance_emit(upd.company_id, followup_event_types(false, c.changes, upd.status), 'followup', upd.id, upd.snapshot, c.changes)
      FROM upd, (SELECT jsonb_object_agg(field, jsonb_build_object('from', from_value, 'to', to_value)) AS changes FROM changes) c
    )
    SELECT ${rowOf('upd')} FROM upd, events`;
  // Named by its field set (the text depends on nothing else): at most one plan per set per connection.
  const { rows } = await db.query<FollowupRow>({ name: `followup-update:${fields.join(',')}`, text: sql, values: params });
  if (rows[0]) return { found: rows[0] };
  return ownerOf(companyId, id, db);
}

async function ownerOf(companyId: number, id: number, db: Queryable): Promise<Lookup<never>> {
  const { rows } = await db.query<{ company_id: number }>('SELECT company_id FROM followups WHERE id = $1', [id]);
  return rows[0] ? { forbidden: true } : undefined;
}

export interface ChangeRow {
  at: Date;
  field: string;
  from_value: unknown;
  to_value: unknown;
  source: string;
}

/** One page of a followup's changes, oldest first, and their total. */
export async function listChanges(companyId: number, followupId: number, window: PageWindow, db: Queryable): Promise<RowPage<ChangeRow>> {
  return selectPage<ChangeRow>(db, {
    select: `SELECT at, field, from_value, to_value, source FROM followup_changes
             WHERE company_id = $1 AND followup_id = $2 ORDER BY id`,
    count: 'SELECT count(*)::int AS n FROM followup_changes WHERE company_id = $1 AND followup_id = $2',
  }, [companyId, followupId], window);
}

export type MediaKind = 'audio' | 'pdf';

export interface StoredMedia {
  key: string;
  contentType: string;
  size: number;
}

/**
 * Points the followup at a newly stored file (replacing any previous one) and records the change
 * in the history (field `audio` or `pdf`, values `{content_type, size}` or null). For audio, an
 * ingest in progress is superseded: the recording is `stored`. Returns the key of the file it
 * replaced (to be deleted once this commits); undefined when the company has no such followup.
 */
export async function setMedia(
  companyId: number,
  id: number,
  kind: MediaKind,
  media: StoredMedia | null,
  source: string,
  db: Queryable,
): Promise<{ row: FollowupRow; replacedKey: string | null } | undefined> {
  const recording = kind === 'audio' ? `, recording_state = ${media ? "'stored'" : 'NULL'}, recording_error = NULL` : '';
  const { rows } = await db.query<FollowupRow & { replaced_key: string | null }>(
    `WITH old AS (
       SELECT id, ${kind}_key AS key, ${kind}_content_type AS content_type, ${kind}_size AS size
       FROM followups WHERE id = $1 AND company_id = $2 FOR NO KEY UPDATE
     ), upd AS (
       UPDATE followups f
       SET ${kind}_key = $3, ${kind}_content_type = $4, ${kind}_size = $5${recording},
           processed_at = now(), updated_at = now()
       FROM old WHERE f.id = old.id
       RETURNING f.*, old.key AS replaced_key
     ), change AS (
       INSERT INTO followup_changes (company_id, followup_id, field, from_value, to_value, source)
       SELECT upd.company_id, upd.id, '${kind}',
              CASE WHEN old.key IS NULL THEN NULL ELSE jsonb_build_object('content_type', old.content_type, 'size', old.size) END,
              CASE WHEN $3::text IS NULL THEN NULL ELSE jsonb_build_object('content_type', $4::text, 'size', $5::bigint) END,
              $6
       FROM upd JOIN old USING (id)
       WHERE old.key IS NOT NULL OR $3::text IS NOT NULL
       RETURNING field, from_value, to_value
     ), events AS (
       -- A stored recording is ready to be fetched: followup.recording_ready with the update.
       SELECT relance_emit(
         upd.company_id,
         CASE WHEN c.field IS NULL THEN '{}'::text[] WHEN c.field = 'audio' AND $3::text IS NOT NULL THEN ARRAY['followup.updated', 'followup.recording_ready'] ELSE ARRAY['followup.updated'] END,
         'followup', upd.id, to_jsonb(upd) - 'replaced_key',
         CASE WHEN c.field IS NULL THEN NULL ELSE jsonb_build_object(c.field, jsonb_build_object('from', c.from_value, 'to', c.to_value)) END)
       FROM upd LEFT JOIN change c ON true
     )
     SELECT upd.* FROM upd, events`,
    [id, companyId, media?.key ?? null, media?.contentType ?? null, media?.size ?? null, source],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { replaced_key: replacedKey, ...followup } = row;
  return { row: followup as FollowupRow, replacedKey };
}

/** Marks the recording as being downloaded from `audio_url` (a job does it). */
export async function markRecordingPending(companyId: number, id: number, db: Queryable): Promise<void> {
  await db.query(
    "UPDATE followups SET recording_state = 'pending', recording_error = NULL WHERE id = $1 AND company_id = $2",
    [id, companyId],
  );
}

/** The followup's audio_url before a change, its row locked until the transaction ends; undefined if not the company's. */
export async function lockAudioUrl(companyId: number, id: number, tx: Queryable): Promise<{ audio_url: string | null } | undefined> {
  const { rows } = await tx.query<{ audio_url: string | null }>(
    'SELECT audio_url FROM followups WHERE id = $1 AND company_id = $2 FOR NO KEY UPDATE',
    [id, companyId],
  );
  return rows[0];
}

/** With audio_url cleared or moved to one of our own links, a download in progress or failed is moot: the state follows the stored file. */
export async function cancelRecordingIngest(companyId: number, id: number, db: Queryable): Promise<FollowupRow | undefined> {
  const { rows } = await db.query<FollowupRow>(
    `UPDATE followups SET recording_state = CASE WHEN audio_key IS NULL THEN NULL ELSE 'stored' END, recording_error = NULL
     WHERE id = $1 AND company_id = $2 AND recording_state IN ('pending', 'failed') RETURNING *`,
    [id, companyId],
  );
  return rows[0];
}

/**
 * The outcome of a download of `url`, applied only while the followup still waits for it: same
 * audio_url, still `pending` (an update may have changed the URL, an upload or a delete may have
 * superseded it: then the download is moot). For a stored file, returns
 * the key it replaced; `applied: false` when the URL had changed.
 */
export async function finishIngest(
  id: number,
  url: string,
  outcome: { stored: StoredMedia } | { failed: string },
  db: Queryable,
): Promise<{ applied: boolean; replacedKey: string | null; companyId?: number }> {
  const { rows } = await db.query<{ company_id: number; replaced_key: string | null }>(
    `WITH old AS (
       SELECT id, company_id, audio_key, audio_content_type, audio_size
       FROM followups WHERE id = $1 AND audio_url = $2 AND recording_state = 'pending' FOR NO KEY UPDATE
     ), upd AS (
       UPDATE followups f
       SET recording_state = CASE WHEN $3::text IS NULL THEN 'failed' ELSE 'stored' END,
           recording_error = $6,
           audio_key = COALESCE($3, f.audio_key),
           audio_content_type = CASE WHEN $3::text IS NULL THEN f.audio_content_type ELSE $4 END,
           audio_size = CASE WHEN $3::text IS NULL THEN f.audio_size ELSE $5 END
       FROM old WHERE f.id = old.id
       RETURNING f.id, f.company_id, CASE WHEN $3::text IS NULL THEN NULL ELSE old.audio_key END AS replaced_key, to_jsonb(f) AS snapshot
     ), change AS (
       -- A stored download is a change of the followup's recording, as an upload is (source system).
       INSERT INTO followup_changes (company_id, followup_id, field, from_value, to_value, source)
       SELECT upd.company_id, upd.id, 'audio',
              CASE WHEN old.audio_key IS NULL THEN NULL ELSE jsonb_build_object('content_type', old.audio_content_type, 'size', old.audio_size) END,
              jsonb_build_object('content_type', $4::text, 'size', $5::bigint), 'system'
       FROM upd JOIN old USING (id)
       WHERE $3::text IS NOT NULL
       RETURNING field, from_value, to_value
     ), events AS (
       SELECT relance_emit(
         upd.company_id, ARRAY['followup.updated', 'followup.recording_ready'], 'followup', upd.id, upd.snapshot,
         jsonb_build_object(c.field, jsonb_build_object('from', c.from_value, 'to', c.to_value)))
       FROM upd JOIN change c ON true
     )
     SELECT company_id, replaced_key FROM upd LEFT JOIN events ON true`,
    [
      id, url,
      'stored' in outcome ? outcome.stored.key : null,
      'stored' in outcome ? outcome.stored.contentType : null,
      'stored' in outcome ? outcome.stored.size : null,
      'failed' in outcome ? outcome.failed : null,
    ],
  );
  const row = rows[0];
  return row ? { applied: true, replacedKey: row.replaced_key, companyId: row.company_id } : { applied: false, replacedKey: null };
}
