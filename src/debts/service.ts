import type { Lookup } from '../db/lookup.js';
import type { BlobStore } from '../storage/blob-store.js';
import { atomically, transaction, type Pool, type Queryable } from '../db/pool.js';
import { emitEvents, type FieldChanges } from '../webhooks/outbox.js';
import { parseDebtChanges, parseNewDebt, type SchemaChecked } from './rules.js';
import {
  deleteDebt as deleteDebtRows, findDebt, insertDebt, lockDebt, updateDebt as updateDebtRow, type DebtChanges, type DebtRow, type StoredDebt,
} from './repository.js';

/**
 * Checks and stores a new debt: the code path of `POST /debts` and `relance debt create`.
 * `input` is the body with what the request schema found wrong with it; a bad one is a 400
 * ApiError naming every bad field.
 */
export async function createDebt(companyId: number, input: SchemaChecked, db: Queryable): Promise<DebtRow> {
  const values = parseNewDebt(input);
  return atomically(db, async (tx) => {
    const row = await insertDebt(companyId, values, tx);
    await emitEvents(tx, companyId, ['debt.created'], { type: 'debt', id: row.id }, row);
    return row;
  });
}

/**
 * Applies a partial update. The row is locked while the input is checked against it, so two
 * concurrent updates cannot together break a rule that each one alone keeps (such as clearing
 * phone in one and email in the other). Ownership is settled before the input is looked at.
 */
export async function updateDebt(companyId: number, id: number, input: SchemaChecked, pool: Pool): Promise<Lookup<DebtRow>> {
  return transaction(pool, async (tx) => {
    const current = await lockDebt(companyId, id, 'update', tx);
    if (!current || 'forbidden' in current) return current;
    const changes = parseDebtChanges(input, current.found);
    if (Object.keys(changes).length === 0) return findDebt(companyId, id, tx);
    const row = await changeDebt(companyId, current.found, changes, tx);
    return row && { found: row };
  });
}

/**
 * Writes `changes` over `current` (locked by the caller's transaction) and the `debt.updated`
 * event of the fields whose value changed, in that transaction.
 */
export async function changeDebt(companyId: number, current: StoredDebt, changes: DebtChanges, tx: Queryable): Promise<DebtRow | undefined> {
  const row = await updateDebtRow(companyId, current.id, changes, tx);
  if (!row) return undefined;
  const changed: FieldChanges = {};
  for (const field of Object.keys(changes) as (keyof DebtChanges & keyof StoredDebt)[]) {
    const from = current[field] ?? null;
    const to = row[field] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) changed[field] = { from, to };
  }
  if (Object.keys(changed).length > 0) await emitEvents(tx, companyId, ['debt.updated'], { type: 'debt', id: row.id }, row, changed);
  return row;
}

/**
 * Deletes the debt and its followups in one transaction, then their files: a file no row points
 * to any more (a failure to remove it leaves an orphan, logged, never a row without its file).
 */
export async function deleteDebt(
  companyId: number,
  id: number,
  pool: Pool,
  storage: Pick<BlobStore, 'delete'>,
  log: { warn: (details: object, message: string) => void },
): Promise<Lookup<{ deletedFollowups: number }>> {
  const result = await transaction(pool, async (tx) => {
    const current = await lockDebt(companyId, id, 'delete', tx);
    if (!current || 'forbidden' in current) return current;
    const deleted = await deleteDebtRows(companyId, id, tx);
    await emitEvents(tx, companyId, ['debt.deleted'], { type: 'debt', id }, current.found);
    return { found: deleted };
  });
  if (!result || 'forbidden' in result) return result;
  for (const key of result.found.mediaKeys) {
    await storage.delete(key).catch((error: unknown) => log.warn({ err: error }, 'could not delete a media object of a deleted debt'));
  }
  return { found: { deletedFollowups: result.found.followups } };
}
