import pino from 'pino';
import { createClient } from '../auth/client-service.js';
import { insertCompany } from '../companies/repository.js';
import type { Config } from '../config.js';
import { toDebt } from '../debts/serialize.js';
import { createDebt } from '../debts/service.js';
import { ApiError } from '../http/errors.js';
import { createLogger } from '../logger.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { IdCodec } from '../security/encrypted-id.js';
import { shortFingerprint } from '../security/keys.js';
import { serve } from '../server.js';

export class UsageError extends Error {}

type Options = Record<string, string | boolean | undefined>;

/** Runs one CLI command; returns the JSON object to print (serve prints its own). */
export async function runCommand(config: Config, words: string[], options: Options): Promise<unknown> {
  const command = words.join(' ');
  if (command === 'serve') {
    await serve(config);
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

const COMMANDS: Record<string, (runtime: Runtime, options: Options) => Promise<unknown>> = {
  migrate: async (runtime) => ({ migrated: runtime.migrated }),

  'key reset': async ({ fingerprint }) => ({
    fingerprint: shortFingerprint(fingerprint.current),
    previous: fingerprint.previous === undefined ? null : shortFingerprint(fingerprint.previous),
  }),

  'company create': async (runtime, options) => {
    const name = required(options, 'name').trim();
    if (name.length < 1 || name.length > 200) throw new UsageError('--name must be 1 to 200 characters');
    const company = await insertCompany(name, runtime.db.pool);
    return { id: ids(runtime).encode('company', company.id), name: company.name };
  },

  'client create': async (runtime, options) => {
    const companyId = companyOf(runtime, options);
    const scopes = required(options, 'scopes').split(/[\s,]+/).filter(Boolean);
    try {
      return await createClient(companyId, { scopes, name: optional(options, 'name') }, runtime.keys.secrets, runtime.db.pool);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new UsageError('--company: no such company');
      throw new UsageError((error as Error).message);
    }
  },

  'debt create': async (runtime, options) => {
    const companyId = companyOf(runtime, options);
    try {
      // The same validation as POST /debts; only the amount needs reading from its text form.
      const row = await createDebt(companyId, {
        firstname: optional(options, 'firstname'),
        lastname: optional(options, 'lastname'),
        amount: amountOf(optional(options, 'amount')),
        currency: optional(options, 'currency'),
        phone: optional(options, 'phone'),
        email: optional(options, 'email'),
      }, runtime.db.pool);
      return toDebt(row, ids(runtime));
    } catch (error) {
      if (error instanceof ApiError && error.details) throw new UsageError([...new Set(Object.values(error.details))].join('; '));
      if (isForeignKeyViolation(error)) throw new UsageError('--company: no such company');
      throw error;
    }
  },
};

const ids = (runtime: Runtime) => new IdCodec(runtime.keys.ids);

function companyOf(runtime: Runtime, options: Options): number {
  const id = ids(runtime).decode('company', required(options, 'company'));
  if (id === undefined) throw new UsageError('--company must be a company ID printed by `relance company create`');
  return id;
}

function required(options: Options, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function optional(options: Options, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

/** A decimal number as typed ("1250", "1250.50"); anything else is passed on for the validator to refuse. */
function amountOf(text: string | undefined): number | string | undefined {
  return text !== undefined && /^\d{1,15}(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23503';
}
