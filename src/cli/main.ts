#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { StartRefused } from '../start-refused.js';
import { runCommand, UsageError } from './commands.js';

const USAGE = `Usage: relance <command> [options]

  serve                                   migrate and serve the API
  migrate                                 apply pending database migrations
  company create --name N                 create a company (tenant)
  client create --company ID --scopes "a b" [--name N]
                                          create an API client; prints its secret once
  debt create --company ID --firstname F --lastname L --amount A --currency C [--phone P] [--email E]
  key reset                               make the key in use this database's key, when its own is lost

The database is DATABASE_URL if set, else the embedded PostgreSQL in DATA_DIR (default ./data).`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      company: { type: 'string' },
      scopes: { type: 'string' },
      firstname: { type: 'string' },
      lastname: { type: 'string' },
      amount: { type: 'string' },
      currency: { type: 'string' },
      phone: { type: 'string' },
      email: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stderr.write(USAGE + '\n');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const result = await runCommand(loadConfig(), positionals, values);
  if (result !== undefined) process.stdout.write(JSON.stringify(result) + '\n');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  const message = error instanceof ConfigError || error instanceof StartRefused || usage ? (error as Error).message : String((error as Error)?.stack ?? error);
  process.stderr.write(`relance: ${message}${usage ? `\n\n${USAGE}` : ''}\n`);
  process.exit(usage ? 2 : 1);
});
