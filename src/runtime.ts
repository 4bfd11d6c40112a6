import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import type { Role } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import type { Pool } from './db/pool.js';
import { adoptKeyFingerprint, findKeyFingerprint, otherRelanceProcesses, replaceKeyFingerprint } from './security/key-fingerprint-repository.js';
import { deriveKeys, loadMasterKey, readMasterKey, shortFingerprint, type Keys } from './security/keys.js';
import type { BlobStore } from './storage/blob-store.js';
import { openBlobStore } from './storage/open-store.js';
import { StartRefused } from './start-refused.js';

export interface Runtime {
  config: Config;
  db: Database;
  keys: Keys;
  /** Recordings and PDFs, in the store STORAGE_DRIVER names. */
  storage: BlobStore;
  migrated: string[];
  /** The fingerprint of the key in use, and the one the database held when this start began. */
  fingerprint: { current: string; previous: string | undefined };
}

export interface RuntimeOptions {
  /** `serve` owns the embedded server; a command (the default) may share a running serve's. */
  role?: Role;
  /** `relance key reset`: make the key in use this database's key, whichever it was set up with. */
  adoptKey?: boolean;
}

/** What every command needs: the database (embedded or external), migrated, and the keys that match it. */
export async function openRuntime(config: Config, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const db = await openDatabase(config, log, options.role);
  try {
    const migrated = await migrate(db.pool);
    if (migrated.length > 0) log.info({ migrated }, 'database migrated');
    const { keys, fingerprint } = await keysOf(config, db.pool, options.adoptKey ?? false);
    const storage = await openBlobStore(config, keys);
    return { config, db, keys, storage, migrated, fingerprint };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/**
 * IDs, tokens and client-secret digests derive from the master key: a database used with another
 * key looks empty to every client. So the database keeps the fingerprint of its key, and a start
 * with another one is refused. A database without one (new, or older than the check) takes the
 * key in use; only then may a missing DATA_DIR/secret.key be generated.
 */
async function keysOf(config: Config, pool: Pool, adopt: boolean): Promise<Pick<Runtime, 'keys' | 'fingerprint'>> {
  const keyFile = join(config.dataDir, 'secret.key');
  const stored = await findKeyFingerprint(pool);
  let master = await readMasterKey(config.secretKey, config.dataDir);
  if (!master && stored && !adopt) {
    throw new StartRefused(
      `${keyFile} is missing, but this database was set up with a key (fingerprint ${shortFingerprint(stored)}), ` +
        'so no new one is generated.\n' +
        recovery(config, 'a new key'),
    );
  }
  master ??= await loadMasterKey(undefined, config.dataDir);
  const keys = deriveKeys(master);
  const current = keys.fingerprint.toString('hex');
  const fingerprint = { current, previous: stored };
  if (adopt) {
    // A running process would go on with the old key, and refuse every client made after.
    const others = await otherRelanceProcesses(pool);
    if (others.length > 0) {
      throw new StartRefused(`Relance processes are running on this database (pid ${others.join(', ')}): stop them before \`relance key reset\`, or they would go on with the old key`);
    }
    fingerprint.previous = await replaceKeyFingerprint(current, pool);
    return { keys, fingerprint };
  }
  if (stored === current) return { keys, fingerprint };
  const agreed = stored ?? (await adoptKeyFingerprint(current, pool));
  if (agreed !== current) {
    const source = config.secretKey ? 'RELANCE_SECRET_KEY' : keyFile;
    throw new StartRefused(
      `The secret key in use (fingerprint ${shortFingerprint(current)}, from ${source}) is not the key this database ` +
        `was set up with (fingerprint ${shortFingerprint(agreed)}).\n` +
        recovery(config, 'the key in use'),
    );
  }
  return { keys, fingerprint };
}

function recovery(config: Config, replacement: string): string {
  const restore = config.databaseUrl
    ? 'set RELANCE_SECRET_KEY to it'
    : `restore ${join(config.dataDir, 'secret.key')} from a backup, or set RELANCE_SECRET_KEY to it`;
  return (
    `  To recover, start with the key this database was set up with: ${restore}.\n` +
    `  If that key is lost for good, \`relance key reset\` makes ${replacement} this database's key; every client ` +
    'secret, access token and ID given out until then stops working.'
  );
}
