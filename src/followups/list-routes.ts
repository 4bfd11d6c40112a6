import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { apiRoutes, operation } from '../http/api-routes.js';
import { listed } from '../http/envelope.js';
import { requirePage } from '../http/pagination.js';
import { parseListQuery } from './list-query.js';
import { followupHistory, listCompanyFollowups, listDebtFollowups, type FollowupPage } from './service.js';
import {
  DebtFollowupsQuery,
  FollowupListResponse,
  FollowupPath,
  HistoryQuery,
  HistoryResponse,
  ListFollowupsQuery,
} from './schema.js';
import { followupPresenter } from './media.js';
import { toChange } from './serialize.js';

export const followupListRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, context) => {
  const { pool, ids, tokens } = context;
  const present = followupPresenter(context);
  const listResponse = async ({ rows, pagination }: FollowupPage) => listed(await Promise.all(rows.map(present)), pagination);
  const route = apiRoutes(app, tokens, 'followups', FollowupPath);

  route.get('/followups', 'followups:read', {
    ...operation('listFollowups', 'List followups',
      'Filters combine with AND. `page`/`limit` gives `pagination.total`; `cursor` (start with an empty one) gives `pagination.next_cursor` for deep, stable scans.'),
    querystring: ListFollowupsQuery,
    response: { 200: FollowupListResponse },
  }, async (request) => listResponse(await listCompanyFollowups(pool, ids, request.auth.companyId, parseListQuery(request.query, ids))));

  route.get('/followups/debt/:debtId', 'followups:read', {
    ...operation('listDebtFollowups', "List one debt's followups", 'The same filters and pagination as `GET /followups`.'),
    querystring: DebtFollowupsQuery,
    response: { 200: FollowupListResponse },
  }, async (request) => {
    const debtId = ids.decode('debt', request.params.debtId);
    return listResponse(await listDebtFollowups(pool, ids, request.auth.companyId, debtId, request.query));
  });

  route.get('/followups/:id/history', 'followups:read', {
    ...operation('getFollowupHistory', "A followup's changes, oldest first"),
    querystring: HistoryQuery,
    response: { 200: HistoryResponse },
  }, async (request) => {
    const page = requirePage(request.query);
    const { rows, pagination } = await followupHistory(pool, request.auth.companyId, ids.decode('followup', request.params.id), page);
    return listed(rows.map(toChange), pagination);
  });
};
