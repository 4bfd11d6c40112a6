import { parse as parseContentType } from 'content-type';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from './errors.js';

/** Methods whose routes take no body: a JSON Content-Type sent with nothing is not an error. */
const BODILESS = new Set(['GET', 'HEAD', 'DELETE']);

/**
 * Deepest nesting of arrays and objects a body may have. No request needs more (debt metadata
 * allows 16 levels), and every later walk of a body (validation, Idempotency-Key hashing) may
 * then recurse without fear of overflowing the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Largest JSON body, unless a route sets its own `bodyLimit` (uploads do). */
export const JSON_BODY_LIMIT = 1024 * 1024;

/**
 * Fastify's JSON parser (which refuses prototype-poisoning keys), with the answers made precise:
 * a body is read as strict UTF-8 (a declared other charset is a 415, invalid bytes a 400, never
 * silently replaced), an empty body on a route that takes none is no body, and a valid JSON text
 * refused only for a `__proto__` or `constructor.prototype` key says so instead of calling the
 * JSON invalid.
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = charsetOf(request);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return done(errors.unsupportedCharset(), undefined);
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(errors.invalidUtf8(), undefined);
    }
    if (text.length === 0 && BODILESS.has(request.method)) return done(null, undefined);
    parse(request, text, (error, value) => {
      if (error && text.length > 0 && isJson(text)) return done(errors.forbiddenJsonKey(), undefined);
      if (!error && nestedDeeperThan(value, MAX_JSON_DEPTH)) return done(errors.tooDeeplyNested(MAX_JSON_DEPTH), undefined);
      done(error, value);
    });
  });
}

/**
 * The declared charset, lower-cased, or undefined. Fastify already matched the media type; a
 * header whose parameters do not parse (`application/json;`) declares no charset.
 */
function charsetOf(request: FastifyRequest): string | undefined {
  try {
    return parseContentType(request.headers['content-type'] ?? '').parameters.charset?.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Walked with an explicit stack, so that the check itself cannot overflow. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
