import type { Queryable } from '../db/pool.js';
import type { Scope } from './scopes.js';

export interface ClientRow {
  id: number;
  company_id: number;
  client_id: string;
  secret_hash: Buffer;
  scopes: Scope[];
  disabled_at: Date | null;
}

export async function insertClient(
  companyId: number,
  client: { clientId: string; secretHash: Buffer; name: string | null; scopes: Scope[] },
  db: Queryable,
): Promise<ClientRow> {
  const { rows } = await db.query<ClientRow>(
    `INSERT INTO api_clients (company_id, client_id, secret_hash, name, scopes)
     VALUES ($1, $2, $3, $4, $5)
     RETURNING id, company_id, client_id, secret_hash, scopes, disabled_at`,
    [companyId, client.clientId, client.secretHash, client.name, client.scopes],
  );
  return rows[0]!;
}

/** Looked up by its public client_id, across companies: this is how a caller is identified. */
export async function findClientByClientId(clientId: string, db: Queryable): Promise<ClientRow | undefined> {
  const { rows } = await db.query<ClientRow>(
    'SELECT id, company_id, client_id, secret_hash, scopes, disabled_at FROM api_clients WHERE client_id = $1',
    [clientId],
  );
  return rows[0];
}
