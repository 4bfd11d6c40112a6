import type { Queryable } from '../db/pool.js';

export interface StoredResponse {
  request_hash: Buffer;
  status_code: number;
  response: string;
}

/**
 * Claims `key` for this transaction: true when it was free or its previous use is older than
 * 24 hours. A concurrent claim of the same key waits here until the first transaction ends.
 */
export async function claimKey(companyId: number, key: string, requestHash: Buffer, db: Queryable): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'idempotency-claim',
    text: `INSERT INTO idempotency_keys (company_id, key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT (company_id, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL, created_at = now()
       WHERE idempotency_keys.created_at < now() - interval '24 hours'`,
    values: [companyId, key, requestHash],
  });
  return rowCount === 1;
}

export async function storeResponse(companyId: number, key: string, status: number, response: string, db: Queryable): Promise<void> {
  await db.query({
    name: 'idempotency-store',
    text: 'UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE company_id = $1 AND key = $2',
    values: [companyId, key, status, response],
  });
}

export async function findResponse(companyId: number, key: string, db: Queryable): Promise<StoredResponse | undefined> {
  const { rows } = await db.query<StoredResponse>({
    name: 'idempotency-find',
    text: 'SELECT request_hash, status_code, response FROM idempotency_keys WHERE company_id = $1 AND key = $2',
    values: [companyId, key],
  });
  return rows[0];
}

/**
 * Deletes up to `limit` keys older than 24 hours, of every company: a maintenance sweep, the one
 * query here not scoped to a company. Returns how many went.
 */
export async function deleteExpiredKeys(limit: number, db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
       SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' LIMIT $1))`,
    [limit],
  );
  return rowCount ?? 0;
}
