import { paymentClient } from '../helpers/payments.js';
import { securityCases } from '../helpers/security.js';
import { body, setup } from '../helpers/setup.js';

const ctx = await setup();
const api = paymentClient(ctx);

securityCases(ctx, 'payments', {
  kinds: {
    payment: {
      make: async (owner) => (await api.created(owner.auth, { debt_id: await owner.debt(), amount: 10, currency: 'EUR' })).id,
      read: async (owner, id) => body(await api.get(owner.auth, id)),
    },
  },
  endpoints: [
    { method: 'POST', path: '/payments', scope: 'payments:write', payload: () => ({ debt_id: 'x', amount: 1, currency: 'EUR' }) },
    { method: 'GET', path: '/payments/:id', scope: 'payments:read' },
    { method: 'GET', path: '/payments', scope: 'payments:read' },
  ],
});
