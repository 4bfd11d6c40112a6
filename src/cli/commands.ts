import pino from 'pino';
import { insertCompany } from '../companies/repository.js';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { openRuntime } from '../runtime.js';
import { shortFingerprint } from '../security/keys.js';
import { serve } from '../server.js';
import { runWorkerProcess } from '../worker.js';
import { clientCommands } from './client-commands.js';
import { debtCommands } from './debt-commands.js';
import { idsOf, required, UsageError, type Command, type Options } from './options.js';

export { UsageError } from './options.js';

/** Runs one CLI command; returns the JSON object to print (serve and worker print their own logs). */
export async function runCommand(config: Config, words: string[], options: Options): Promise<unknown> {
  const command = words.join(' ');
  if (command === 'serve') {
    await serve(config);
    return undefined;
  }
  if (command === 'worker') {
    await runWorkerProcess(config);
    return undefined;
  }
  const handler = COMMANDS[command];
  if (!handler) throw new UsageError(`unknown command "${command}"`);
  // Commands log warnings to stderr only: stdout carries the one JSON result.
  const log = createLogger('warn', pino.destination({ dest: 2, sync: true }));
  // Every other command refuses a key that is not the database's; `key reset` is the way out.
  const runtime = await openRuntime(config, log, { adoptKey: command === 'key reset' });
  try {
    return await handler(runtime, options);
  } finally {
    await runtime.db.close();
  }
}

const COMMANDS: Record<string, Command> = {
  migrate: async (runtime) => ({ migrated: runtime.migrated }),

  'key reset': async ({ fingerprint }) => ({
    fingerprint: shortFingerprint(fingerprint.current),
    previous: fingerprint.previous === undefined ? null : shortFingerprint(fingerprint.previous),
  }),

  'company create': async (runtime, options) => {
    const name = required(options, 'name').trim();
    if (name.length < 1 || name.length > 200) throw new UsageError('--name must be 1 to 200 characters');
    const company = await insertCompany(name, runtime.db.pool);
    return { id: idsOf(runtime).encode('company', company.id), name: company.name };
  },

  ...clientCommands,
  ...debtCommands,
};
