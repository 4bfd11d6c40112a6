import { parse as parseContentType } from 'content-type';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from './errors.js';

/** Methods whose routes take no body: a JSON Content-Type sent with nothing is not an error. */
const BODILESS = new Set(['GET', 'HEAD', 'DELETE']);

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

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
