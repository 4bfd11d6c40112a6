import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import type { Role } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { deriveKeys, loadMasterKey, type Keys } from './security/keys.js';

export interface Runtime {
  config: Config;
  db: Database;
  keys: Keys;
  migrated: string[];
}

export interface RuntimeOptions {
  /** `serve` owns the embedded server; a command (the default) may share a running serve's. */
  role?: Role;
}

/** What every command needs: the database (embedded or external), migrated, and the keys. */
export async function openRuntime(config: Config, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const keys = deriveKeys(await loadMasterKey(config.secretKey, config.dataDir));
  const db = await openDatabase(config, log, options.role);
  try {
    const migrated = await migrate(db.pool);
    if (migrated.length > 0) log.info({ migrated }, 'database migrated');
    return { config, db, keys, migrated };
  } catch (error) {
    await db.close();
    throw error;
  }
}
