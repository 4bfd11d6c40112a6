import type { TestContext } from './setup.js';
import { API, body } from './setup.js';

type Auth = { authorization: string };

/** Thin request helpers for the payments endpoints. */
export function paymentClient(ctx: TestContext) {
  const create = (auth: Auth, payload: unknown) =>
    ctx.app.inject({ method: 'POST', url: `${API}/payments`, headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  return {
    create,
    async created(auth: Auth, payload: Record<string, unknown>) {
      const response = await create(auth, payload);
      if (response.statusCode !== 201) throw new Error(`payment failed: ${response.statusCode} ${response.body}`);
      return body(response).data;
    },
    get: (auth: Auth, id: string) => ctx.app.inject({ method: 'GET', url: `${API}/payments/${id}`, headers: auth }),
    list: (auth: Auth, query = '') => ctx.app.inject({ method: 'GET', url: `${API}/payments?${query}`, headers: auth }),
    /** A debt made through the API with the given fields over a default one. */
    async debt(auth: Auth, fields: Record<string, unknown> = {}): Promise<{ id: string; status: string }> {
      const response = await ctx.app.inject({
        method: 'POST', url: `${API}/debts`, headers: { ...auth, 'content-type': 'application/json' },
        payload: JSON.stringify({ firstname: 'Jane', lastname: 'Doe', email: 'jane@example.com', amount: 100, currency: 'EUR', ...fields }),
      });
      if (response.statusCode !== 201) throw new Error(`debt failed: ${response.body}`);
      return body(response).data;
    },
    debtStatus: async (auth: Auth, id: string): Promise<string> =>
      body(await ctx.app.inject({ method: 'GET', url: `${API}/debts/${id}`, headers: auth })).data.status,
  };
}
