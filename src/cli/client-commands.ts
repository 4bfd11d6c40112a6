import { changeClientScopes, createClient, rotateClientSecret } from '../auth/client-service.js';
import { listClients, setClientDisabled, type ClientRow } from '../auth/clients-repository.js';
import { formatTimestamp } from '../time/timestamp.js';
import { companyOf, isForeignKeyViolation, required, optional, UsageError, type Command, type Options } from './options.js';

/*
 * `relance client …`: an operator's hold on API clients. Changes take effect in every running
 * API process within milliseconds (see ClientStates); secrets are printed once, never stored.
 */

const scopesOf = (options: Options) => required(options, 'scopes').split(/[\s,]+/).filter(Boolean);

function found<T>(row: T | undefined): T {
  if (row === undefined) throw new UsageError('--client: no such client (use a client_id printed by `relance client create` or `client list`)');
  return row;
}

const described = (row: ClientRow) => ({
  client_id: row.client_id,
  name: row.name,
  scopes: row.scopes,
  disabled: row.disabled_at !== null,
  created_at: formatTimestamp(row.created_at),
});

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
    let row;
    try {
      row = await changeClientScopes(clientId, scopesOf(options), runtime.db.pool);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return { client_id: found(row).client_id, scopes: row!.scopes };
  },
};
