import type { TestContext } from './setup.js';
import { API, body } from './setup.js';
import { createdData, sendJson, type Auth } from './requests.js';

/** Thin request helpers for the payments endpoints. */
export function paymentClient(ctx: TestContext) {
  const create = (auth: Auth, payload: unknown) => sendJson(ctx, 'POST', '/payments', auth, payload);
  return {
    create,
    created: async (auth: Auth, payload: Record<string, unknown>) => createdData(await create(auth, payload), 'payment'),
    get: (auth: Auth, id: string) => ctx.app.inject({ method: 'GET', url: `${API}/payments/${id}`, headers: auth }),
    list: (auth: Auth, query = '') => ctx.app.inject({ method: 'GET', url: `${API}/payments?${query}`, headers: auth }),
    /** A debt made through the API with the given fields over a default one. */
    async debt(auth: Auth, fields: Record<string, unknown> = {}): Promise<{ id: string; status: string }> {
      const payload = { firstname: 'Jane', lastname: 'Doe', email: 'jane@example.com', amount: 100, currency: 'EUR', ...fields };
      return createdData(await sendJson(ctx, 'POST', '/debts', auth, payload), 'debt');
    },
    debtStatus: async (auth: Auth, id: string): Promise<string> =>
      body(await ctx.app.inject({ method: 'GET', url: `${API}/debts/${id}`, headers: auth })).data.status,
  };
}
