import type { Queryable } from '../db/pool.js';
import type { Scope } from './scopes.js';

export interface ClientRow {
  id: number;
  company_id: number;
  client_id: string;
  secret_hash: Buffer;
  name: string | null;
  scopes: Scope[];
  disabled_at: Date | null;
  token_epoch: number;
  /** Requests per rate-limit window; null: the processes' defaults. */
  read_limit: number | null;
  write_limit: number | null;
  created_at: Date;
}

const COLUMNS = 'id, company_id, client_id, secret_hash, name, scopes, disabled_at, token_epoch, read_limit, write_limit, created_at';

export async function insertClient(
  companyId: number,
  client: { clientId: string; secretHash: Buffer; name: string | null; scopes: Scope[] },
  db: Queryable,
): Promise<ClientRow> {
  const { rows } = await db.query<ClientRow>(
    `INSERT INTO api_clients (company_id, client_id, secret_hash, name, scopes)
     VALUES ($1, $2, $3, $4, $5)
     RETURNING ${COLUMNS}`,
    [companyId, client.clientId, client.secretHash, client.name, client.scopes],
  );
  return rows[0]!;
}

/** Looked up by its public client_id, across companies: this is how a caller is identified. */
export async function findClientByClientId(clientId: string, db: Queryable): Promise<ClientRow | undefined> {
  const { rows } = await db.query<ClientRow>(`SELECT ${COLUMNS} FROM api_clients WHERE client_id = $1`, [clientId]);
  return rows[0];
}

export async function listClients(companyId: number, db: Queryable): Promise<ClientRow[]> {
  const { rows } = await db.query<ClientRow>(`SELECT ${COLUMNS} FROM api_clients WHERE company_id = $1 ORDER BY id`, [companyId]);
  return rows;
}

/** What a token check needs to know of its client, read by id (tokens carry the internal id). */
export interface ClientState {
  companyId: number;
  disabled: boolean;
  scopes: Scope[];
  epoch: number;
  /** Ids of its revoked tokens not yet expired. */
  revoked: ReadonlySet<string>;
  /** Its own rate-limit budgets; null: the defaults. */
  readLimit: number | null;
  writeLimit: number | null;
}

export async function clientState(clientRowId: number, db: Queryable): Promise<ClientState | undefined> {
  const { rows } = await db.query<{
    company_id: number; disabled: boolean; scopes: Scope[]; token_epoch: number; revoked: string[]; read_limit: number | null; write_limit: number | null;
  }>({
    name: 'client-state',
    text: `SELECT c.company_id, c.disabled_at IS NOT NULL AS disabled, c.scopes, c.token_epoch, c.read_limit, c.write_limit,
                  ARRAY(SELECT r.token_id FROM revoked_tokens r WHERE r.client_id = c.id AND r.expires_at > now()) AS revoked
           FROM api_clients c WHERE c.id = $1`,
    values: [clientRowId],
  });
  const row = rows[0];
  return row && {
    companyId: row.company_id, disabled: row.disabled, scopes: row.scopes, epoch: row.token_epoch, revoked: new Set(row.revoked),
    readLimit: row.read_limit, writeLimit: row.write_limit,
  };
}

/*
 * Lifecycle changes, by public client_id (the operator's handle on a client, unique across
 * companies). Each returns the changed row, or undefined when there is no such client. A change
 * that must end the tokens already issued raises token_epoch.
 */

export async function setClientDisabled(clientId: string, disabled: boolean, db: Queryable): Promise<ClientRow | undefined> {
  const { rows } = await db.query<ClientRow>(
    `UPDATE api_clients
     SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END,
         token_epoch = token_epoch + CASE WHEN $2 AND disabled_at IS NULL THEN 1 ELSE 0 END,
         updated_at = now()
     WHERE client_id = $1 RETURNING ${COLUMNS}`,
    [clientId, disabled],
  );
  return rows[0];
}

export async function replaceClientSecret(clientId: string, secretHash: Buffer, db: Queryable): Promise<ClientRow | undefined> {
  const { rows } = await db.query<ClientRow>(
    `UPDATE api_clients SET secret_hash = $2, token_epoch = token_epoch + 1, updated_at = now()
     WHERE client_id = $1 RETURNING ${COLUMNS}`,
    [clientId, secretHash],
  );
  return rows[0];
}

/**
 * Taking a scope away ends the tokens issued so far (a scope cut because a token leaked must
 * not come back on that token when it is given again); only adding scopes leaves them alive.
 */
export async function setClientScopes(clientId: string, scopes: Scope[], db: Queryable): Promise<ClientRow | undefined> {
  const { rows } = await db.query<ClientRow>(
    `UPDATE api_clients
     SET scopes = $2, updated_at = now(), token_epoch = token_epoch + CASE WHEN $2::text[] @> scopes THEN 0 ELSE 1 END
     WHERE client_id = $1 RETURNING ${COLUMNS}`,
    [clientId, scopes],
  );
  return rows[0];
}

/**
 * Sets the client's own rate-limit budgets: a number, null for the defaults, undefined to leave
 * one as it is. Tokens live on: a budget is not a permission.
 */
export async function setClientRateLimits(
  clientId: string,
  limits: { read?: number | null; write?: number | null },
  db: Queryable,
): Promise<ClientRow | undefined> {
  const { rows } = await db.query<ClientRow>(
    `UPDATE api_clients
     SET read_limit = CASE WHEN $2 THEN $3::integer ELSE read_limit END,
         write_limit = CASE WHEN $4 THEN $5::integer ELSE write_limit END,
         updated_at = now()
     WHERE client_id = $1 RETURNING ${COLUMNS}`,
    [clientId, limits.read !== undefined, limits.read ?? null, limits.write !== undefined, limits.write ?? null],
  );
  return rows[0];
}

/**
 * Lists one token as revoked until it expires (and forgets revoked tokens that have expired).
 * Touching the client announces the change to every process.
 */
export async function revokeToken(clientRowId: number, tokenId: string, expiresAt: Date, db: Queryable): Promise<void> {
  await db.query(
    `WITH purge AS (DELETE FROM revoked_tokens WHERE expires_at <= now()),
          revoked AS (INSERT INTO revoked_tokens (client_id, token_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING)
     UPDATE api_clients SET updated_at = now() WHERE id = $1`,
    [clientRowId, tokenId, expiresAt],
  );
}

/** Ends every token of the client issued so far (for tokens that carry no id of their own). */
export async function bumpTokenEpoch(clientRowId: number, db: Queryable): Promise<void> {
  await db.query('UPDATE api_clients SET token_epoch = token_epoch + 1, updated_at = now() WHERE id = $1', [clientRowId]);
}
