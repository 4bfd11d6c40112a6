import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { apiRoutes, operation } from '../http/api-routes.js';
import { ok } from '../http/envelope.js';
import { ErrorResponseSchema, errors, owned } from '../http/errors.js';
import { withResponseHeaders } from '../http/openapi-schema.js';
import { replyOnce } from '../idempotency/reply.js';
import { followupPresenter } from './media.js';
import { findFollowup } from './repository.js';
import {
  CreatedFollowupResponse,
  CreateFollowupBody,
  CreateFollowupHeaders,
  ExistingFollowupResponse,
  FollowupPath,
  FollowupResponse,
  UpdatedFollowupResponse,
  UpdateFollowupBody,
} from './schema.js';
import { toCreatedFollowup } from './serialize.js';
import { changeFollowup, createFollowup, type Caller } from './service.js';

export function callerOf(request: FastifyRequest): Caller {
  return { companyId: request.auth.companyId, source: `api:${request.auth.clientId}` };
}

export const followupRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, context) => {
  const { pool, ids, tokens, media } = context;
  const present = followupPresenter(context);
  const route = apiRoutes(app, tokens, 'followups', FollowupPath);

  route.post('/followups', 'followups:write', {
    ...operation('createFollowup', 'Create a followup'),
    description:
      'Send `Idempotency-Key` to make retries safe (24 h). A followup whose `call_id` already exists on the debt is returned with 200 instead of being duplicated.',
    headers: CreateFollowupHeaders,
    body: CreateFollowupBody,
    response: {
      200: withResponseHeaders(ExistingFollowupResponse, ['Idempotent-Replayed']),
      201: withResponseHeaders(CreatedFollowupResponse, ['Idempotent-Replayed']),
      409: ErrorResponseSchema,
      422: ErrorResponseSchema,
    },
  }, async (request, reply) => {
    return replyOnce(request, reply, pool, (db) => createFollowup(db, ids, callerOf(request), request.body, media), (outcome) => ({
      status: 'created' in outcome ? 201 : 200,
      body: ok('Followup created successfully', toCreatedFollowup('created' in outcome ? outcome.created : outcome.existing, ids)),
    }));
  });

  route.get('/followups/:id', 'followups:read', {
    ...operation('getFollowup', 'Get a followup'),
    response: { 200: FollowupResponse },
  }, async (request) => {
    const id = ids.decode('followup', request.params.id);
    const lookup = id === undefined ? undefined : await findFollowup(request.auth.companyId, id, pool);
    return ok('Success', await present(owned(lookup, 'followup')));
  });

  for (const method of ['put', 'patch'] as const) {
    route[method]('/followups/:id', 'followups:write', {
      ...operation(method === 'put' ? 'putFollowup' : 'patchFollowup', `Update a followup (${method === 'put' ? 'partial, like PATCH' : 'partial'})`,
        'Only the fields sent change; `null` clears a nullable field. `debt_id` cannot be changed. Every changed field is recorded in the history.'),
      body: UpdateFollowupBody,
      response: { 200: UpdatedFollowupResponse, 409: ErrorResponseSchema },
    }, async (request) => {
      const id = ids.decode('followup', request.params.id);
      if (id === undefined) throw errors.notFound('followup');
      const row = await changeFollowup(pool, callerOf(request), id, request.body, media);
      return ok('Followup updated successfully', await present(row));
    });
  }
};
