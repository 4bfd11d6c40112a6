import { changeClient, checkScopes, createClient, rotateClientSecret } from '../auth/client-service.js';
import { listClients, setClientDisabled, type ClientRow } from '../auth/clients-repository.js';
import { formatTimestamp } from '../time/timestamp.js';
import { companyOf, isForeignKeyViolation, required, optional, UsageError, type Command, type Options } from './options.js';

/*
 * `relance client …`: an operator's hold on API clients. Changes take effect in every running
 * API process within milliseconds (see ClientStates); secrets are printed once, never stored.
 */

const scopesOf = (options: Options) => required(options, 'scopes').split(/[\s,]+/).filter(Boolean);

function checkedScopes(options: Options) {
  try {
    return checkScopes(scopesOf(options));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function found<T>(row: T | undefined): T {
  if (row === undefined) throw new UsageError('--client: no such client (use a client_id printed by `relance client create` or `client list`)');
  return row;
}

const described = (row: ClientRow) => ({
  client_id: row.client_id,
  name: row.name,
  scopes: row.scopes,
  disabled: row.disabled_at !== null,
  read_limit: row.read_limit,
  write_limit: row.write_limit,
  created_at: formatTimestamp(row.created_at),
});

const MAX_BUDGET = 1_000_000_000;

/** `--read-limit N`: a budget per window; `default`: back to the serving processes' RATE_LIMIT_READS / _WRITES (null). */
function budgetOf(options: Options, flag: 'read-limit' | 'write-limit'): number | null | undefined {
  const value = optional(options, flag);
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > MAX_BUDGET) {
    throw new UsageError(`--${flag} must be an integer from 1 to ${MAX_BUDGET} (requests per window), or "default"`);
  }
  return Number(value);
}

export const clientCommands: Record<string, Command> = {
  'client create': async (runtime, options) => {
    const companyId = companyOf(runtime, options);
    try {
      return await createClient(companyId, { scopes: scopesOf(options), name: optional(options, 'name') }, runtime.keys.secrets, runtime.db.pool);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new UsageError('--company: no such company');
      throw new UsageError((error as Error).message);
    }
  },

  'client list': async (runtime, options) => ({ clients: (await listClients(companyOf(runtime, options), runtime.db.pool)).map(described) }),

  'client disable': async (runtime, options) => {
    const row = found(await setClientDisabled(required(options, 'client'), true, runtime.db.pool));
    return { client_id: row.client_id, disabled: true };
  },

  'client enable': async (runtime, options) => {
    const row = found(await setClientDisabled(required(options, 'client'), false, runtime.db.pool));
    return { client_id: row.client_id, disabled: false };
  },

  'client rotate-secret': async (runtime, options) => found(await rotateClientSecret(required(options, 'client'), runtime.keys.secrets, runtime.db.pool)),

  'client update': async (runtime, options) => {
    const clientId = required(options, 'client');
    const readLimit = budgetOf(options, 'read-limit');
    const writeLimit = budgetOf(options, 'write-limit');
    const scopes = optional(options, 'scopes') === undefined ? undefined : checkedScopes(options);
    if (scopes === undefined && readLimit === undefined && writeLimit === undefined) {
      throw new UsageError('client update needs --scopes, --read-limit or --write-limit (or several)');
    }
    const row = found(await changeClient(clientId, { scopes, readLimit, writeLimit }, runtime.db.pool));
    return { client_id: row.client_id, scopes: row.scopes, read_limit: row.read_limit, write_limit: row.write_limit };
  },
};
