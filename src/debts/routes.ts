import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { apiRoutes, operation } from '../http/api-routes.js';
import { listed, ok } from '../http/envelope.js';
import { errors, owned } from '../http/errors.js';
import { pageInfo } from '../http/pagination.js';
import { bodyProblems } from '../http/validation.js';
import { parseDebtListQuery } from './list-query.js';
import { countDebts, findDebt, listDebts } from './repository.js';
import {
  CreateDebtBody,
  DebtListResponse,
  DebtPath,
  DebtResponse,
  DeletedDebtResponse,
  ListDebtsQuery,
  UpdateDebtBody,
} from './schema.js';
import { toDebt } from './serialize.js';
import { createDebt, deleteDebt, updateDebt } from './service.js';

export const debtRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { pool, ids, tokens, storage, log }) => {
  const route = apiRoutes(app, tokens, 'debts', DebtPath);
  // An id that does not decrypt as a debt id is unknown, and costs no query.
  const debtId = (text: string) => {
    const id = ids.decode('debt', text);
    if (id === undefined) throw errors.notFound('debt');
    return id;
  };

  // Writes see the schema's verdict on the body (`attachValidation`) rather than a 400 straight
  // away: ownership is settled first (another company's debt is a 403 whatever the body), and the
  // rules of rules.ts are checked with it, so that every bad field is reported in one 400.
  route.post('/debts', { scope: 'debts:write', attachValidation: true }, {
    ...operation('createDebt', 'Create a debt'),
    body: CreateDebtBody,
    response: { 201: DebtResponse },
  }, async (request, reply) => {
    const row = await createDebt(request.auth.companyId, { body: request.body, problems: bodyProblems(request) }, pool);
    return reply.code(201).send(ok('Debt created successfully', toDebt(row, ids)));
  });

  route.get('/debts/:id', 'debts:read', {
    ...operation('getDebt', 'Get a debt'),
    response: { 200: DebtResponse },
  }, async (request) => {
    const row = owned(await findDebt(request.auth.companyId, debtId(request.params.id), pool), 'debt');
    return ok('Success', toDebt(row, ids));
  });

  route.get('/debts', 'debts:read', {
    ...operation('listDebts', 'List debts', 'Newest first (ties by id). Filters combine with AND.'),
    querystring: ListDebtsQuery,
    response: { 200: DebtListResponse },
  }, async (request) => {
    const { filters, page } = parseDebtListQuery(request.query);
    const companyId = request.auth.companyId;
    // The page and its total are independent queries: run them side by side.
    const [rows, total] = await Promise.all([
      listDebts(companyId, filters, { limit: page.limit, offset: (page.page - 1) * page.limit }, pool),
      countDebts(companyId, filters, pool),
    ]);
    return listed(rows.map((row) => toDebt(row, ids)), pageInfo(page, total));
  });

  // One route per method, so that each has an operationId of its own.
  for (const method of ['put', 'patch'] as const) {
    route[method]('/debts/:id', { scope: 'debts:write', attachValidation: true }, {
      ...operation(method === 'put' ? 'putDebt' : 'patchDebt', 'Update a debt (partial: only the fields sent change)'),
      body: UpdateDebtBody,
      response: { 200: DebtResponse },
    }, async (request) => {
      const input = { body: request.body, problems: bodyProblems(request) };
      const row = owned(await updateDebt(request.auth.companyId, debtId(request.params.id), input, pool), 'debt');
      return ok('Debt updated successfully', toDebt(row, ids));
    });
  }

  route.delete('/debts/:id', 'debts:write', {
    ...operation('deleteDebt', 'Delete a debt and its followups'),
    response: { 200: DeletedDebtResponse },
  }, async (request) => {
    const id = debtId(request.params.id);
    const { deletedFollowups } = owned(await deleteDebt(request.auth.companyId, id, pool, storage, log), 'debt');
    return ok('Debt deleted successfully', { id: request.params.id, deleted_followups: deletedFollowups });
  });
};
