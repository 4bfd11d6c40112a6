import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/pool.js';
import { generateSecret, hashSecret } from '../security/secrets.js';
import { insertClient } from './clients-repository.js';
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
  const unknown = options.scopes.filter((s) => !isScope(s));
  if (unknown.length > 0) throw new Error(`Unknown scope(s): ${unknown.join(', ')}. Valid scopes: ${SCOPES.join(', ')}`);
  if (options.scopes.length === 0) throw new Error('A client needs at least one scope');
  const scopes = [...new Set(options.scopes)] as Scope[];
  const clientId = `rlc_${randomBytes(12).toString('hex')}`;
  const secret = generateSecret('rls');
  await insertClient(companyId, { clientId, secretHash: hashSecret(pepper, secret), name: options.name ?? null, scopes }, db);
  return { client_id: clientId, client_secret: secret, scopes };
}
