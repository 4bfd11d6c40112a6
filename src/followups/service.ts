import { retryTransient, type Pool } from '../db/pool.js';
import { errors, owned } from '../http/errors.js';
import { ok } from '../http/envelope.js';
import { idempotent, type WriteResult } from '../idempotency/service.js';
import type { IdCodec } from '../security/encrypted-id.js';
import { parseTimestamp } from '../time/timestamp.js';
import { insertFollowup, updateFollowup, WRITABLE_COLUMNS, type FollowupRow, type FollowupValues } from './repository.js';
import type { CreateFollowupBody, UpdateFollowupBody } from './schema.js';
import { toCreatedFollowup } from './serialize.js';

export interface Caller {
  companyId: number;
  /** History source, e.g. `api:rlc_…`. */
  source: string;
}

/**
 * Creates a followup (201), or returns the debt's followup with the same call_id (200), at most
 * once per Idempotency-Key.
 */
export async function createFollowup(
  pool: Pool,
  ids: IdCodec,
  caller: Caller,
  body: CreateFollowupBody,
  idempotencyKey: string | undefined,
): Promise<WriteResult> {
  const debtId = ids.decode('debt', body.debt_id);
  const request = { method: 'POST', route: '/followups', body };
  const debtNotFound = () => errors.validation({ debt_id: 'Debt not found: debt_id must be the ID of a debt of your company' });
  return idempotent(pool, caller.companyId, idempotencyKey, request, async (db) => {
    let result;
    try {
      result = debtId === undefined ? undefined : await insertFollowup(caller.companyId, debtId, createValues(body), caller.source, db);
    } catch (error) {
      // The debt was deleted between the ownership check and the foreign-key check.
      if ((error as { code?: string }).code === '23503') throw debtNotFound();
      throw error;
    }
    if (!result) throw debtNotFound();
    if ('contended' in result) throw errors.conflict('call_id was being changed by other requests on this debt: retry');
    const row = 'created' in result ? result.created : result.existing;
    const envelope = ok('Followup created successfully', toCreatedFollowup(row, ids));
    return { status: 'created' in result ? 201 : 200, body: JSON.stringify(envelope) };
  });
}

/** Applies the fields sent; 403/404 as for a read; 409 when call_id is taken on the debt. */
export async function changeFollowup(pool: Pool, caller: Caller, id: number, body: UpdateFollowupBody): Promise<FollowupRow> {
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
    return owned(await retryTransient(() => updateFollowup(caller.companyId, id, changes, caller.source, pool)), 'followup');
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
