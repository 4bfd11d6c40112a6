import { body, setup } from '../helpers/setup.js';
import { securityCases } from '../helpers/security.js';

const ctx = await setup();
const read = (path: string) => async (owner: { auth: { authorization: string } }, id: string) =>
  body(await ctx.app.inject({ method: 'GET', url: `/external-api/v1${path.replace(':id', id)}`, headers: owner.auth })).data;

securityCases(ctx, 'followups', {
  kinds: {
    followup: { make: async (owner) => owner.followup(await owner.debt()), read: read('/followups/:id') },
    debt: { make: (owner) => owner.debt(), read: read('/followups/debt/:id') },
  },
  endpoints: [
    { method: 'POST', path: '/followups', scope: 'followups:write', names: 'debt', payload: (debtId) => ({ debt_id: debtId }) },
    { method: 'GET', path: '/followups', scope: 'followups:read' },
    { method: 'GET', path: '/followups/:id', scope: 'followups:read' },
    { method: 'PUT', path: '/followups/:id', scope: 'followups:write', payload: () => ({ summary: 'changed' }) },
    { method: 'PATCH', path: '/followups/:id', scope: 'followups:write', payload: () => ({ summary: 'changed' }) },
    { method: 'GET', path: '/followups/:id/history', scope: 'followups:read' },
    { method: 'GET', path: '/followups/debt/:id', scope: 'followups:read', names: 'debt' },
  ],
});
