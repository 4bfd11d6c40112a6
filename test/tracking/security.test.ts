import { followupClient } from '../helpers/followups.js';
import { securityCases } from '../helpers/security.js';
import { setup } from '../helpers/setup.js';

const ctx = await setup();
const followups = followupClient(ctx);

securityCases(ctx, 'tracking', {
  kinds: {
    followup: {
      make: async (owner) => owner.followup(await owner.debt()),
      // The followup with its counters, and its events: a refused request changes neither.
      read: async (owner, id) => [
        (await followups.get(owner.auth, id)).json(),
        (await ctx.app.inject({ method: 'GET', url: `/external-api/v1/followups/${id}/tracking-events`, headers: owner.auth })).json(),
      ],
    },
  },
  endpoints: [
    { method: 'POST', path: '/followups/:id/tracking-links', scope: 'followups:write', payload: () => ({ url: 'https://pay.example.com/' }) },
    { method: 'GET', path: '/followups/:id/tracking-pixel', scope: 'followups:read' },
    { method: 'POST', path: '/followups/:id/events', scope: 'followups:write', payload: () => ({ type: 'opened', provider_event_id: 'sec-1' }) },
    { method: 'GET', path: '/followups/:id/tracking-events', scope: 'followups:read' },
  ],
});
