import type { Lookup } from '../db/lookup.js';
import type { BlobStore } from '../storage/blob-store.js';
import { transaction, type Pool, type Queryable } from '../db/pool.js';
import { parseDebtChanges, parseNewDebt, type SchemaChecked } from './rules.js';
import { deleteDebt as deleteDebtRows, findDebt, insertDebt, lockDebt, updateDebt as updateDebtRow, type DebtRow } from './repository.js';

/**
 * Checks and stores a new debt: the code path of `POST /debts` and `relance debt create`.
 * `input` is the body with what the request schema found wrong with it; a bad one is a 400
 * ApiError naming every bad field.
 */
export async function createDebt(companyId: number, input: SchemaChecked, db: Queryable): Promise<DebtRow> {
  return insertDebt(companyId, parseNewDebt(input), db);
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
    const row = await updateDebtRow(companyId, id, changes, tx);
    return row && { found: row };
  });
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
    return { found: await deleteDebtRows(companyId, id, tx) };
  });
  if (!result || 'forbidden' in result) return result;
  for (const key of result.found.mediaKeys) {
    await storage.delete(key).catch((error: unknown) => log.warn({ err: error }, 'could not delete a media object of a deleted debt'));
  }
  return { found: { deletedFollowups: result.found.followups } };
}
