import type { FastifyInstance } from 'fastify';
import { errors } from './errors.js';

/** Methods whose routes take no body: a JSON Content-Type sent with nothing is not an error. */
const BODILESS = new Set(['GET', 'HEAD', 'DELETE']);

/**
 * Fastify's JSON parser (which refuses prototype-poisoning keys), with two answers made precise:
 * an empty body on a route that takes none is no body, and a valid JSON text refused only for a
 * `__proto__` or `constructor.prototype` key says so instead of calling the JSON invalid.
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.length === 0 && BODILESS.has(request.method)) return done(null, undefined);
    parse(request, text, (error, value) => {
      if (error && text.length > 0 && isJson(text)) return done(errors.forbiddenJsonKey(), undefined);
      done(error, value);
    });
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
