import { randomBytes } from 'node:crypto';
import { transaction, type Pool, type Queryable } from '../db/pool.js';
import { generateSecret, hashSecret } from '../security/secrets.js';
import { insertClient, replaceClientSecret, setClientRateLimits, setClientScopes, type ClientRow } from './clients-repository.js';
import { SCOPES, isScope, type Scope } from './scopes.js';

export interface NewClient {
  client_id: string;
  client_secret: string;
  scopes: Scope[];
}

/** Creates an API client; the secret is returned this once and only its digest is kept. */
export async function createClient(
  companyId: number,
  options: { scopes: string[]; name?: string | null },
  pepper: Buffer,
  db: Queryable,
): Promise<NewClient> {
  const scopes = checkScopes(options.scopes);
  const clientId = `rlc_${randomBytes(12).toString('hex')}`;
  const secret = generateSecret('rls');
  await insertClient(companyId, { clientId, secretHash: hashSecret(pepper, secret), name: options.name ?? null, scopes }, db);
  return { client_id: clientId, client_secret: secret, scopes };
}

/**
 * Gives the client a new secret, returned this once. The old secret stops working, and so does
 * every token issued until now (the token epoch is raised): a secret is rotated because it may
 * have leaked, and so may the tokens it got.
 */
export async function rotateClientSecret(clientId: string, pepper: Buffer, db: Queryable): Promise<{ client_id: string; client_secret: string } | undefined> {
  const secret = generateSecret('rls');
  const row = await replaceClientSecret(clientId, hashSecret(pepper, secret), db);
  return row && { client_id: row.client_id, client_secret: secret };
}

export interface ClientChanges {
  /** New scopes (checked with `checkScopes`); taking one away ends the client's live tokens. */
  scopes?: Scope[];
  /** Rate-limit budgets per window: a number, null for the defaults, undefined to leave it. */
  readLimit?: number | null;
  writeLimit?: number | null;
}

/** Changes a client's scopes and budgets at once (in one transaction); undefined when there is no such client. */
export async function changeClient(clientId: string, changes: ClientChanges, pool: Pool): Promise<ClientRow | undefined> {
  return transaction(pool, async (tx) => {
    let row = changes.scopes ? await setClientScopes(clientId, changes.scopes, tx) : undefined;
    if (changes.readLimit !== undefined || changes.writeLimit !== undefined) {
      row = await setClientRateLimits(clientId, { read: changes.readLimit, write: changes.writeLimit }, tx);
    }
    return row;
  });
}

/** The scopes asked for, without repeats; an unknown one or none at all is an error saying so. */
export function checkScopes(requested: string[]): Scope[] {
  const unknown = requested.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new Error(`Unknown scope(s): ${unknown.join(', ')}. Valid scopes: ${SCOPES.join(', ')}`);
  if (requested.length === 0) throw new Error('A client needs at least one scope');
  return [...new Set(requested)] as Scope[];
}
