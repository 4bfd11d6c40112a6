import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { deriveKeys, loadMasterKey, type Keys } from './security/keys.js';

export interface Runtime {
  config: Config;
  db: Database;
  keys: Keys;
  migrated: string[];
}

/** What every command needs: the database (embedded or external), migrated, and the keys. */
export async function openRuntime(config: Config, log: Logger): Promise<Runtime> {
  const keys = deriveKeys(await loadMasterKey(config.secretKey, config.dataDir));
  const db = await openDatabase(config, log);
  try {
    const migrated = await migrate(db.pool);
    if (migrated.length > 0) log.info({ migrated }, 'database migrated');
    return { config, db, keys, migrated };
  } catch (error) {
    await db.close();
    throw error;
  }
}
