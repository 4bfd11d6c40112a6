import type { Logger } from 'pino';
import { TokenSigner } from './auth/access-token.js';
import { ClientStates } from './auth/client-states.js';
import { TokenVerifier } from './auth/token-verifier.js';
import type { Pool } from './db/pool.js';
import { IdCodec } from './security/encrypted-id.js';
import type { Keys } from './security/keys.js';
import type { BlobStore } from './storage/blob-store.js';

/**
 * What every feature plugin is given, built once per app: register a plugin with it and read
 * what the feature needs (`async (app, { pool, ids, tokens }) => …`). A new shared part (storage,
 * a mailer) is added here once instead of to each feature's options.
 */
export interface AppContext {
  pool: Pool;
  keys: Keys;
  log: Logger;
  /** Public ids, encrypted. */
  ids: IdCodec;
  /** Seals and opens access tokens (AES-256-GCM). */
  sealer: TokenSigner;
  /** What this process knows of each API client's state. */
  clientStates: ClientStates;
  /** Checks bearer tokens: seal, then client state. */
  tokens: TokenVerifier;
  /** Recordings and PDFs: a local folder or an S3 bucket (src/storage/). */
  storage: BlobStore;
}

export function createAppContext(pool: Pool, keys: Keys, log: Logger, clientStateTtlMs: number, storage: BlobStore): AppContext {
  const sealer = new TokenSigner(keys.tokens);
  const clientStates = new ClientStates(pool, clientStateTtlMs, log);
  return { pool, keys, log, ids: new IdCodec(keys.ids), sealer, clientStates, tokens: new TokenVerifier(sealer, clientStates), storage };
}
