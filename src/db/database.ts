import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { startEmbedded, type Role } from './embedded.js';
import { createPool, type Pool } from './pool.js';

export interface Database {
  pool: Pool;
  /** Connection URL, for a process's other pools (the background worker's). */
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

/** DATABASE_URL if set, else the embedded server in DATA_DIR, started (or shared) as `role`. */
export async function openDatabase(config: Config, log: Logger, role?: Role): Promise<Database> {
  const server = config.databaseUrl ? undefined : await startEmbedded(config.dataDir, log, { role });
  const url = config.databaseUrl ?? server!.url;
  const pool = createPool(url, config.databasePoolSize, config.database);
  return {
    pool,
    url,
    embedded: server !== undefined,
    close: async () => {
      await pool.end();
      await server?.stop();
    },
  };
}
