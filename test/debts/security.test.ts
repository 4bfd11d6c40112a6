import { body, setup } from '../helpers/setup.js';
import { debtClient, VALID_DEBT } from '../helpers/debts.js';
import { securityCases } from '../helpers/security.js';

const ctx = await setup();
const api = debtClient(ctx);

securityCases(ctx, 'debts', {
  kinds: { debt: { make: (owner) => owner.debt(), read: async (owner, id) => body(await api.get(owner.auth, id)).data } },
  endpoints: [
    { method: 'POST', path: '/debts', scope: 'debts:write', payload: () => VALID_DEBT },
    { method: 'GET', path: '/debts', scope: 'debts:read' },
    { method: 'GET', path: '/debts/:id', scope: 'debts:read' },
    { method: 'PUT', path: '/debts/:id', scope: 'debts:write', payload: () => ({ city: 'Hacked' }) },
    { method: 'PATCH', path: '/debts/:id', scope: 'debts:write', payload: () => ({ city: 'Hacked' }) },
    { method: 'DELETE', path: '/debts/:id', scope: 'debts:write' },
  ],
});
