import type { PageWindow, RowPage } from '../db/page.js';
import { Type, type TOptional, type TProperties, type TSchema, type TString } from '@sinclair/typebox';
import { Nullable } from './envelope.js';
import { errors, type ErrorDetails } from './errors.js';
import { named, publishedAs } from './openapi-schema.js';

/** `pagination` of page-mode lists, keys in this order. */
export const PagePagination = named('Pagination', Type.Object({
  total: Type.Integer({ description: 'Items matching the filters' }),
  page: Type.Integer(),
  limit: Type.Integer(),
  pages: Type.Integer({ description: 'Number of pages (0 when nothing matches)' }),
}));

/** `pagination` of cursor-mode lists. */
export const CursorPagination = named('CursorPagination', Type.Object({
  limit: Type.Integer(),
  next_cursor: Nullable(Type.String({ description: 'Cursor of the next page; null at the end' })),
}));

export interface PageRequest {
  page: number;
  limit: number;
}

export const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;

/** `page` and `limit` as parsePage accepts them, for the published document. */
export const PageQueryFields = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1, description: 'Page number, from 1', examples: [1] })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'Items per page', examples: [DEFAULT_LIMIT] })),
};

/** `{"error": false, "data": [...], "pagination"}`: one page of a page-mode list of `item`. */
export function PageResponse<T extends TSchema>(item: T, description: string) {
  return Type.Object({ error: Type.Literal(false), data: Type.Array(item), pagination: PagePagination }, { description });
}

type StringParams<F extends TProperties> = { [K in keyof F]: TOptional<TString> };

/**
 * The query of a page-mode list: `page`, `limit` and the list's own `filters`. The validator takes
 * each as a string (the route parses them, so that every bad parameter is reported at once in the
 * API's words); the document shows them as `filters` and PageQueryFields type them.
 */
export function PageQuery<F extends TProperties = {}>(filters: F = {} as F) {
  const strings = Object.fromEntries(Object.keys(filters).map((name) => [name, Type.Optional(Type.String())])) as StringParams<F>;
  return publishedAs(
    Type.Object({ ...strings, page: Type.Optional(Type.String()), limit: Type.Optional(Type.String()) }),
    Type.Object({ ...filters, ...PageQueryFields }),
  );
}

/** `page` (≥ 1, default 1) and `limit` (1–100, default 20); problems are added to `details`. */
export function parsePage(query: { page?: string; limit?: string }, details: ErrorDetails): PageRequest {
  return {
    page: integerParam(query.page, 'page', 1, Number.MAX_SAFE_INTEGER, 1, details),
    limit: integerParam(query.limit, 'limit', 1, MAX_LIMIT, DEFAULT_LIMIT, details),
  };
}

/** `page` and `limit` of a list with no other parameter: a 400 naming each bad one. */
export function requirePage(query: { page?: string; limit?: string }): PageRequest {
  const details: ErrorDetails = {};
  const page = parsePage(query, details);
  if (Object.keys(details).length > 0) throw errors.validation(details);
  return page;
}

export function integerParam(
  raw: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
  details: ErrorDetails,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || value < min || value > max) {
    details[name] = `${name} must be an integer from ${min} to ${max}`;
    return fallback;
  }
  return value;
}

/** The `pagination` object of page-mode lists. */
export function pageInfo({ page, limit }: PageRequest, total: number) {
  return { total, page, limit, pages: Math.ceil(total / limit) };
}

/** The requested page of a list: `list` reads the rows of the page's window and the total. */
export async function readPage<Row>(page: PageRequest, list: (window: PageWindow) => Promise<RowPage<Row>>) {
  const { rows, total } = await list({ limit: page.limit, offset: (page.page - 1) * page.limit });
  return { rows, pagination: pageInfo(page, total) };
}
