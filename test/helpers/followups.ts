import type { TestContext } from './setup.js';
import { API, body } from './setup.js';

type Auth = { authorization: string };

/** Thin request helpers for the followups endpoints. */
export function followupClient(ctx: TestContext) {
  const create = (auth: Auth, payload: unknown, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: { ...auth, ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  return {
    create,
    /** Creates a followup and returns its data object. */
    async created(auth: Auth, payload: Record<string, unknown>) {
      const response = await create(auth, payload);
      if (response.statusCode !== 201) throw new Error(`create failed: ${response.statusCode} ${response.body}`);
      return body(response).data;
    },
    update: (auth: Auth, id: string, payload: unknown, method: 'PUT' | 'PATCH' = 'PUT') =>
      ctx.app.inject({ method, url: `${API}/followups/${id}`, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) }),
    get: (auth: Auth, id: string) => ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: auth }),
    list: (auth: Auth, query: string, path = '/followups') => ctx.app.inject({ method: 'GET', url: `${API}${path}?${query}`, headers: auth }),
    history: (auth: Auth, id: string, query = '') => ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/history?${query}`, headers: auth }),
  };
}
