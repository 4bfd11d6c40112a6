import type { AppContext } from '../app-context.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { authenticate } from '../http/authenticate.js';
import { errors, owned } from '../http/errors.js';
import { pageInfo, parsePage } from '../http/pagination.js';
import type { Pool } from '../db/pool.js';
import type { IdCodec } from '../security/encrypted-id.js';
import { parseListQuery, encodeCursor, type ListRequest } from './list-query.js';
import { countFollowups, debtCompany, listFollowups } from './list-repository.js';
import { findFollowup, listChanges } from './repository.js';
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
import { toChange, toFollowup } from './serialize.js';

export const followupListRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { pool, ids, tokens }) => {
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
  }, async (request) => list(pool, ids, request.auth.companyId, parseListQuery(request.query, ids)));

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
    const owner = debtId === undefined ? undefined : await debtCompany(debtId, pool);
    if (owner === undefined) throw errors.notFound('Debt');
    if (owner !== request.auth.companyId) throw errors.accessDenied('debt');
    const { debt_id: _ignored, ...query } = request.query;
    const parsed = parseListQuery(query, ids);
    return list(pool, ids, request.auth.companyId, { ...parsed, filters: { ...parsed.filters, debtId } });
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
    const details = {};
    const page = parsePage(request.query, details);
    if (Object.keys(details).length > 0) throw errors.validation(details);
    const id = ids.decode('followup', request.params.id);
    const lookup = id === undefined ? undefined : await findFollowup(request.auth.companyId, id, pool);
    owned(lookup, 'followup');
    const { rows, total } = await listChanges(request.auth.companyId, id!, { limit: page.limit, offset: (page.page - 1) * page.limit }, pool);
    return { error: false as const, data: rows.map(toChange), pagination: pageInfo(page, total) };
  });
};

async function list(pool: Pool, ids: IdCodec, companyId: number, request: ListRequest) {
  const { filters, order, limit } = request;
  if (request.cursor) {
    const rows = await listFollowups(companyId, filters, order, { limit, after: request.cursor.after }, pool);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? encodeCursor(request.sort, { key: last.sort_key, id: last.id }, ids) : null;
    return { error: false as const, data: page.map((row) => toFollowup(row, ids)), pagination: { limit, next_cursor: nextCursor } };
  }
  const page = request.page!;
  // The page and its total are independent queries: run them side by side.
  const [rows, total] = await Promise.all([
    listFollowups(companyId, filters, order, { limit, offset: (page.page - 1) * limit }, pool),
    countFollowups(companyId, filters, pool),
  ]);
  return { error: false as const, data: rows.slice(0, limit).map((row) => toFollowup(row, ids)), pagination: pageInfo(page, total) };
}
