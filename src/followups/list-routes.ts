import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate } from '../http/authenticate.js';
import { requirePage } from '../http/pagination.js';
import { parseListQuery } from './list-query.js';
import { followupHistory, listCompanyFollowups, listDebtFollowups, type FollowupPage } from './service.js';
import { errorResponses } from './routes.js';
import {
  DebtFollowupsParams,
  DebtFollowupsQuery,
  FollowupListResponse,
  FollowupParams,
  HistoryQuery,
  HistoryResponse,
  ListFollowupsQuery,
} from './schema.js';
import { followupPresenter } from './media.js';
import { toChange } from './serialize.js';

export const followupListRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, context) => {
  const { pool, ids, tokens } = context;
  const present = followupPresenter(context);
  const listResponse = async ({ rows, pagination }: FollowupPage) => ({ error: false as const, data: await Promise.all(rows.map(present)), pagination });
  const read = authenticate(tokens, 'followups:read');

  app.get('/followups', {
    onRequest: read,
    schema: {
      operationId: 'listFollowups',
      tags: ['followups'],
      summary: 'List followups',
      description: 'Filters combine with AND. `page`/`limit` gives `pagination.total`; `cursor` (start with an empty one) gives `pagination.next_cursor` for deep, stable scans.',
      querystring: ListFollowupsQuery,
      response: { 200: FollowupListResponse },
    },
  }, async (request) => listResponse(await listCompanyFollowups(pool, ids, request.auth.companyId, parseListQuery(request.query, ids))));

  app.get('/followups/debt/:debtId', {
    onRequest: read,
    schema: {
      operationId: 'listDebtFollowups',
      tags: ['followups'],
      summary: "List one debt's followups",
      description: 'The same filters and pagination as `GET /followups`.',
      params: DebtFollowupsParams,
      querystring: DebtFollowupsQuery,
      response: { 200: FollowupListResponse, ...errorResponses },
    },
  }, async (request) => {
    const debtId = ids.decode('debt', request.params.debtId);
    return listResponse(await listDebtFollowups(pool, ids, request.auth.companyId, debtId, request.query));
  });

  app.get('/followups/:id/history', {
    onRequest: read,
    schema: {
      operationId: 'getFollowupHistory',
      tags: ['followups'],
      summary: "A followup's changes, oldest first",
      params: FollowupParams,
      querystring: HistoryQuery,
      response: { 200: HistoryResponse, ...errorResponses },
    },
  }, async (request) => {
    const page = requirePage(request.query);
    const { rows, pagination } = await followupHistory(pool, request.auth.companyId, ids.decode('followup', request.params.id), page);
    return { error: false as const, data: rows.map(toChange), pagination };
  });
};
