import type { TestContext } from './setup.js';
import { API } from './setup.js';
import { createdData, sendJson, type Auth } from './requests.js';

/** Thin request helpers for the followups endpoints. */
export function followupClient(ctx: TestContext) {
  const create = (auth: Auth, payload: unknown, headers: Record<string, string> = {}) => sendJson(ctx, 'POST', '/followups', auth, payload, headers);
  return {
    create,
    /** Creates a followup and returns its data object. */
    created: async (auth: Auth, payload: Record<string, unknown>) => createdData(await create(auth, payload), 'create'),
    update: (auth: Auth, id: string, payload: unknown, method: 'PUT' | 'PATCH' = 'PUT') => sendJson(ctx, method, `/followups/${id}`, auth, payload),
    get: (auth: Auth, id: string) => ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: auth }),
    list: (auth: Auth, query: string, path = '/followups') => ctx.app.inject({ method: 'GET', url: `${API}${path}?${query}`, headers: auth }),
    history: (auth: Auth, id: string, query = '') => ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/history?${query}`, headers: auth }),
  };
}
