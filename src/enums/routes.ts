import { Type } from '@sinclair/typebox';
import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SCOPES } from '../auth/scopes.js';
import { DEBT_STATUSES, WRITABLE_DEBT_STATUSES } from '../debts/schema.js';
import { authenticate } from '../http/authenticate.js';
import { Envelope, ok } from '../http/envelope.js';
import { ErrorResponseSchema } from '../http/errors.js';
import { named } from '../http/openapi-schema.js';
import { DIRECTIONS, FOLLOWUP_STATUSES, FOLLOWUP_TYPES, WRITABLE_STATUSES } from '../followups/schema.js';
import { FOLLOWUP_SORTS } from '../followups/list-query.js';
import { WEBHOOK_EVENTS } from '../webhooks/events.js';

const list = (description: string) => Type.Array(Type.String(), { description });

const Enums = named('Enums', Type.Object({
  followup_types: list('Values of a followup `type`'),
  followup_statuses: list('Values of a followup `status`'),
  followup_writable_statuses: list('Statuses a client may set (`read` is set by the service)'),
  followup_directions: list('Values of `direction`'),
  followup_sorts: list('Values of the `sort` parameter of followup lists'),
  debt_statuses: list('Values of a debt `status`'),
  debt_writable_statuses: list('Statuses a client may set on a debt'),
  scopes: list('OAuth scopes of API clients'),
  webhook_events: list('Webhook event types'),
}));

const ENUMS = {
  followup_types: [...FOLLOWUP_TYPES],
  followup_statuses: [...FOLLOWUP_STATUSES],
  followup_writable_statuses: [...WRITABLE_STATUSES],
  followup_directions: [...DIRECTIONS],
  followup_sorts: [...FOLLOWUP_SORTS],
  debt_statuses: [...DEBT_STATUSES],
  debt_writable_statuses: [...WRITABLE_DEBT_STATUSES],
  scopes: [...SCOPES],
  webhook_events: [...WEBHOOK_EVENTS],
};

/** `GET /enums`: every enumerated value the API uses; any valid token may read it. */
export const enumRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { tokens }) => {
  app.get('/enums', {
    onRequest: authenticate(tokens),
    schema: {
      operationId: 'getEnums',
      tags: ['reference'],
      summary: 'Enumerated values',
      response: { 200: Envelope(Enums, 'Every enum of the API'), 401: ErrorResponseSchema },
    },
  }, async () => ok('Success', ENUMS));
};
