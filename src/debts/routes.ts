import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate } from '../http/authenticate.js';
import { ok } from '../http/envelope.js';
import { ErrorResponseSchema, errors, owned } from '../http/errors.js';
import { pageInfo } from '../http/pagination.js';
import { bodyProblems } from '../http/validation.js';
import { parseDebtListQuery } from './list-query.js';
import { countDebts, findDebt, listDebts } from './repository.js';
import {
  CreateDebtBody,
  DebtListResponse,
  DebtParams,
  DebtResponse,
  DeletedDebtResponse,
  ListDebtsQuery,
  UpdateDebtBody,
} from './schema.js';
import { toDebt } from './serialize.js';
import { createDebt, deleteDebt, updateDebt } from './service.js';

/** A debt of another company (403) or none (404); the document adds the errors every route can answer. */
const errorResponses = { 403: ErrorResponseSchema, 404: ErrorResponseSchema };


export const debtRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { pool, ids, tokens, storage, log }) => {
  const read = authenticate(tokens, 'debts:read');
  const write = authenticate(tokens, 'debts:write');
  // An id that does not decrypt as a debt id is unknown, and costs no query.
  const debtId = (text: string) => {
    const id = ids.decode('debt', text);
    if (id === undefined) throw errors.notFound('debt');
    return id;
  };

  // Writes see the schema's verdict on the body (`attachValidation`) rather than a 400 straight
  // away: ownership is settled first (another company's debt is a 403 whatever the body), and the
  // rules of rules.ts are checked with it, so that every bad field is reported in one 400.
  app.post('/debts', {
    onRequest: write,
    attachValidation: true,
    schema: {
      operationId: 'createDebt',
      tags: ['debts'],
      summary: 'Create a debt',
      body: CreateDebtBody,
      response: { 201: DebtResponse },
    },
  }, async (request, reply) => {
    const row = await createDebt(request.auth.companyId, { body: request.body, problems: bodyProblems(request) }, pool);
    return reply.code(201).send(ok('Debt created successfully', toDebt(row, ids)));
  });

  app.get('/debts/:id', {
    onRequest: read,
    schema: {
      operationId: 'getDebt',
      tags: ['debts'],
      summary: 'Get a debt',
      params: DebtParams,
      response: { 200: DebtResponse, ...errorResponses },
    },
  }, async (request) => {
    const row = owned(await findDebt(request.auth.companyId, debtId(request.params.id), pool), 'debt');
    return ok('Success', toDebt(row, ids));
  });

  app.get('/debts', {
    onRequest: read,
    schema: {
      operationId: 'listDebts',
      tags: ['debts'],
      summary: 'List debts',
      description: 'Newest first (ties by id). Filters combine with AND.',
      querystring: ListDebtsQuery,
      response: { 200: DebtListResponse },
    },
  }, async (request) => {
    const { filters, page } = parseDebtListQuery(request.query);
    const companyId = request.auth.companyId;
    // The page and its total are independent queries: run them side by side.
    const [rows, total] = await Promise.all([
      listDebts(companyId, filters, { limit: page.limit, offset: (page.page - 1) * page.limit }, pool),
      countDebts(companyId, filters, pool),
    ]);
    return { error: false as const, data: rows.map((row) => toDebt(row, ids)), pagination: pageInfo(page, total) };
  });

  // One route per method, so that each has an operationId of its own.
  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/debts/:id',
      onRequest: write,
      attachValidation: true,
      schema: {
        operationId: method === 'PUT' ? 'putDebt' : 'patchDebt',
        tags: ['debts'],
        summary: 'Update a debt (partial: only the fields sent change)',
        params: DebtParams,
        body: UpdateDebtBody,
        response: { 200: DebtResponse, ...errorResponses },
      },
      handler: async (request) => {
        const input = { body: request.body, problems: bodyProblems(request) };
        const row = owned(await updateDebt(request.auth.companyId, debtId(request.params.id), input, pool), 'debt');
        return ok('Debt updated successfully', toDebt(row, ids));
      },
    });
  }

  app.delete('/debts/:id', {
    onRequest: write,
    schema: {
      operationId: 'deleteDebt',
      tags: ['debts'],
      summary: 'Delete a debt and its followups',
      params: DebtParams,
      response: { 200: DeletedDebtResponse, ...errorResponses },
    },
  }, async (request) => {
    const id = debtId(request.params.id);
    const { deletedFollowups } = owned(await deleteDebt(request.auth.companyId, id, pool, storage, log), 'debt');
    return ok('Debt deleted successfully', { id: request.params.id, deleted_followups: deletedFollowups });
  });
};
