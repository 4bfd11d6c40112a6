import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TokenSigner } from '../auth/access-token.js';
import type { Pool } from '../db/pool.js';
import { authenticate } from '../http/authenticate.js';
import { ok } from '../http/envelope.js';
import { ErrorResponseSchema, errors } from '../http/errors.js';
import type { IdCodec } from '../security/encrypted-id.js';
import { parseTimestamp } from '../time/timestamp.js';
import { findFollowup, insertFollowup, type FollowupValues } from './repository.js';
import {
  CreatedFollowupResponse,
  CreateFollowupBody,
  FollowupParams,
  FollowupResponse,
} from './schema.js';
import { toFollowup } from './serialize.js';

export interface FollowupRoutesOptions {
  pool: Pool;
  ids: IdCodec;
  signer: TokenSigner;
}

const errorResponses = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema };

export const followupRoutes: FastifyPluginAsyncTypebox<FollowupRoutesOptions> = async (app, { pool, ids, signer }) => {
  app.post('/followups', {
    onRequest: authenticate(signer, 'followups:write'),
    schema: {
      tags: ['followups'],
      summary: 'Create a followup',
      security: [{ bearer: [] }],
      body: CreateFollowupBody,
      response: { 201: CreatedFollowupResponse, ...errorResponses },
    },
  }, async (request, reply) => {
    const body = request.body;
    const debtId = ids.decode('debt', body.debt_id);
    const row = debtId === undefined ? undefined : await insertFollowup(request.auth.companyId, debtId, valuesOf(body), pool);
    if (!row) throw errors.validation({ debt_id: 'Debt not found: debt_id must be the ID of a debt of your company' });
    return reply.code(201).send(ok('Followup created successfully', toFollowup(row, ids)));
  });

  app.get('/followups/:id', {
    onRequest: authenticate(signer, 'followups:read'),
    schema: {
      tags: ['followups'],
      summary: 'Get a followup',
      security: [{ bearer: [] }],
      params: FollowupParams,
      response: { 200: FollowupResponse, ...errorResponses },
    },
  }, async (request) => {
    const id = ids.decode('followup', request.params.id);
    const lookup = id === undefined ? undefined : await findFollowup(request.auth.companyId, id, pool);
    if (!lookup) throw errors.notFound('Followup');
    if ('forbidden' in lookup) throw errors.accessDenied('followup');
    return ok('Success', toFollowup(lookup.found, ids));
  });
};

/** Body fields with the contract's defaults applied and timestamps parsed (already validated). */
function valuesOf(body: CreateFollowupBody): FollowupValues {
  const time = (value: string | null | undefined) => (value == null ? null : parseTimestamp(value)!);
  return {
    type: body.type ?? 'call',
    status: body.status ?? 'on_hold',
    call_date: time(body.call_date),
    scheduled_at: time(body.scheduled_at),
    summary: body.summary ?? null,
    notes: body.notes ?? null,
    call_id: body.call_id ?? null,
    audio_url: body.audio_url ?? null,
    duration_ms: body.duration_ms ?? null,
    phone_number_used: body.phone_number_used ?? null,
    direction: body.direction ?? null,
    disconnection_reason: body.disconnection_reason ?? null,
    is_retry: body.is_retry ?? false,
  };
}
