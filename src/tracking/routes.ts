import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { callerOf } from '../followups/routes.js';
import { FollowupPath } from '../followups/schema.js';
import { apiRoutes, operation } from '../http/api-routes.js';
import { listed, ok } from '../http/envelope.js';
import { requirePage } from '../http/pagination.js';
import { trackedUrlRoutes } from './tracked-url-routes.js';
import {
  CreatedEventResponse, EventListResponse, EventsQuery, ExistingEventResponse, ProviderEventBody, TrackingLinkBody, TrackingLinkResponse,
  TrackingPixelResponse,
} from './schema.js';
import { toTrackingEvent } from './serialize.js';
import { createClickLink, openPixel, recordProviderEvent, trackingEvents } from './service.js';

/** Email tracking (SPEC §6): the API under `apiPrefix`, the tracked URLs themselves under /t. */
export const trackingRoutes: FastifyPluginAsyncTypebox<AppContext & { apiPrefix: string }> = async (app, context) => {
  await app.register(trackingApiRoutes, { ...context, prefix: context.apiPrefix });
  await app.register(trackedUrlRoutes, { ...context, prefix: '/t' });
};

const trackingApiRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { pool, ids, keys, tokens, publicUrl }) => {
  const route = apiRoutes(app, tokens, 'tracking', FollowupPath);
  const followupId = (text: string) => ids.decode('followup', text);

  route.post('/followups/:id/tracking-links', 'followups:write', {
    ...operation('createTrackingLink', 'Make a tracked link',
      'Returns a `/t/c/…` URL bound to this followup and to `url`: a click is counted, then answered with a 302 to `url`. ' +
      'The token names a stored link, so it cannot be made to lead anywhere else.'),
    body: TrackingLinkBody,
    response: { 201: TrackingLinkResponse },
  }, async (request, reply) => {
    const { token, destination } = await createClickLink(pool, request.auth.companyId, followupId(request.params.id), request.body.url);
    return reply.code(201).send(ok('Tracking link created', { followup_id: request.params.id, url: `${publicUrl}/t/c/${token}`, destination }));
  });

  route.get('/followups/:id/tracking-pixel', 'followups:read', {
    ...operation('getTrackingPixel', "The followup's open pixel",
      'A `/t/o/…` URL answering a 1×1 transparent GIF; each fetch by a person counts an open.'),
    response: { 200: TrackingPixelResponse },
  }, async (request) => {
    const token = await openPixel(pool, keys.tracking, request.auth.companyId, followupId(request.params.id));
    return ok('Success', { followup_id: request.params.id, url: `${publicUrl}/t/o/${token}` });
  });

  route.post('/followups/:id/events', 'followups:write', {
    ...operation('createTrackingEvent', "Report a provider's tracking event",
      'Feeds the same counters and status as the tracked URLs. An event whose `provider_event_id` was already received returns the first one with 200 and counts nothing.'),
    body: ProviderEventBody,
    response: { 200: ExistingEventResponse, 201: CreatedEventResponse },
  }, async (request, reply) => {
    const outcome = await recordProviderEvent(pool, callerOf(request), followupId(request.params.id), request.body);
    if ('created' in outcome) return reply.code(201).send(ok('Event recorded', toTrackingEvent(outcome.created, ids)));
    return reply.code(200).send(ok('Event already recorded', toTrackingEvent(outcome.existing, ids)));
  });

  route.get('/followups/:id/tracking-events', 'followups:read', {
    ...operation('listTrackingEvents', "A followup's opens, clicks and provider events, oldest first",
      'Machine events (known prefetchers and link scanners) are listed with `machine: true`; the followup\'s counters count only the others.'),
    querystring: EventsQuery,
    response: { 200: EventListResponse },
  }, async (request) => {
    const page = requirePage(request.query);
    const { rows, pagination } = await trackingEvents(pool, request.auth.companyId, followupId(request.params.id), page);
    return listed(rows.map((row) => toTrackingEvent(row, ids)), pagination);
  });
};
