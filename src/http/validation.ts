import { Ajv, type ErrorObject } from 'ajv';
import ajvErrors from 'ajv-errors';
import addFormats from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { parseTimestamp } from '../time/timestamp.js';
import type { ErrorDetails } from './errors.js';
import { isHttpUrl } from './http-url.js';

function buildAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, coerceTypes, useDefaults: false, removeAdditional: false, strict: false });
  addFormats.default(ajv);
  ajvErrors.default(ajv, { singleError: true });
  ajv.addFormat('iso-timestamp', { type: 'string', validate: (value: string) => parseTimestamp(value) !== undefined });
  ajv.addFormat('http-url', { type: 'string', validate: isHttpUrl });
  return ajv;
}

// Bodies are JSON and must carry the right JSON types ("5" is not an integer); query strings,
// path parameters and headers are text and are coerced.
const bodyAjv = buildAjv(false);
const textAjv = buildAjv(true);

// Routes share schema objects (PUT and PATCH, the params of every /followups/:id route): each
// is compiled once per part of the request, not once per route (Ajv's compile is most of the
// CPU a process spends starting).
type Validator = ReturnType<FastifySchemaCompiler<object>>;
const compiled = new Map<string, WeakMap<object, Validator>>();

export const validatorCompiler: FastifySchemaCompiler<object> = (route) => {
  const schema = route.schema as unknown;
  if (schema === null || typeof schema !== 'object') return compile(route);
  let byPart = compiled.get(route.httpPart ?? '');
  if (!byPart) compiled.set(route.httpPart ?? '', (byPart = new WeakMap()));
  let validator = byPart.get(schema);
  if (!validator) byPart.set(schema, (validator = compile(route)));
  return validator;
};

const compile: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : textAjv).compile(lengthFirst(schema) as object);
  // Path parameters are ids: one that does not decode is a 404, checked by the route.
  if (httpPart !== 'body' && httpPart !== 'querystring') return validate as ReturnType<FastifySchemaCompiler<object>>;
  const check = (data: unknown): boolean => {
    const valid = validate(data);
    const text = unstorableTextErrors(schema as SchemaNode, data, '');
    if (valid && text.length === 0) return true;
    check.errors = [...(validate.errors ?? []), ...text];
    return false;
  };
  check.errors = null as ErrorObject[] | null;
  return check as ReturnType<FastifySchemaCompiler<object>>;
};

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf'] as const;
const SUBSCHEMAS = ['items', 'additionalProperties', 'not', 'if', 'then', 'else'] as const;

/**
 * With `allErrors`, Ajv runs every keyword of a field even after `maxLength` failed, so a
 * `pattern` or `format` would run on a string as long as the body (1 MiB), and a backtracking
 * pattern could hold the event loop for minutes. Each one is moved behind its field's own
 * `maxLength` (`if: {maxLength}, then: {pattern, format}`), so it only ever reads a string of
 * bounded length; a pattern or format with no `maxLength` beside it is refused when the route is
 * compiled, at start. (Every pattern must also be linear: test/http/regex.test.ts checks them.)
 * The published schemas are left as they are: only the validator's copy is rewritten.
 */
export function lengthFirst(schema: unknown, path = '#'): unknown {
  if (Array.isArray(schema)) return schema.map((item, i) => lengthFirst(item, `${path}/${i}`));
  if (schema === null || typeof schema !== 'object') return schema;
  const { pattern, format, ...node } = schema as Record<string, unknown>;
  for (const key of SUBSCHEMAS) if (node[key] !== undefined) node[key] = lengthFirst(node[key], `${path}/${key}`);
  for (const key of SUBSCHEMA_LISTS) if (node[key] !== undefined) node[key] = lengthFirst(node[key], `${path}/${key}`);
  if (node.properties !== undefined) {
    node.properties = Object.fromEntries(
      Object.entries(node.properties as Record<string, unknown>).map(([name, property]) => [name, lengthFirst(property, `${path}/properties/${name}`)]),
    );
  }
  if (pattern === undefined && format === undefined) return node;
  if (typeof node.maxLength !== 'number' || node.if !== undefined) {
    throw new Error(`schema ${path}: a pattern or format needs a maxLength (and no if/then of its own)`);
  }
  return { ...node, if: { maxLength: node.maxLength }, then: { ...(pattern !== undefined && { pattern }), ...(format !== undefined && { format }) } };
}

// U+0000, or a UTF-16 surrogate without its pair.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * PostgreSQL text cannot hold U+0000 (the query would fail with a 500) and turns an unpaired
 * surrogate into U+FFFD (the stored value would differ from the one acknowledged), so either one
 * in a string the schema declares is a validation error of that field. Only declared fields are
 * walked: unknown fields are ignored, and the walk is no deeper than the schema.
 */
function unstorableTextErrors(schema: SchemaNode, data: unknown, path: string): ErrorObject[] {
  if (typeof data === 'string') {
    if (path === '' || !UNSTORABLE.test(data)) return [];
    return [{ instancePath: path, schemaPath: '', keyword: 'text', params: {}, message: 'must be valid Unicode text without NUL characters' }];
  }
  if (Array.isArray(data)) {
    const items = schema.items;
    return items ? data.flatMap((item, i) => unstorableTextErrors(items, item, `${path}/${i}`)) : [];
  }
  if (data === null || typeof data !== 'object' || !schema.properties) return [];
  return Object.entries(schema.properties).flatMap(([key, property]) =>
    Object.hasOwn(data, key)
      ? unstorableTextErrors(property, (data as Record<string, unknown>)[key], `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)
      : [],
  );
}

/** Turns Ajv's errors into the contract's `details`: one message per field, all fields at once. */
export function validationDetails(validation: ErrorObject[], part: string | undefined): ErrorDetails {
  const details: ErrorDetails = {};
  const add = (field: string, message: string) => {
    if (!(field in details)) details[field] = message;
  };
  // Missing required fields first, as in the contract's example; then the rest in schema order.
  const isRequired = (e: ErrorObject) => ((e.params as { errors?: ErrorObject[] }).errors?.[0] ?? e).keyword === 'required';
  const ordered = [...validation.filter(isRequired), ...validation.filter((e) => !isRequired(e))];
  for (const error of ordered) {
    const nested = (error.params as { errors?: ErrorObject[] }).errors;
    const original = nested?.[0] ?? error;
    if (original.keyword === 'required') {
      const missing = (original.params as { missingProperty: string }).missingProperty;
      const field = joinPath(error.instancePath, missing);
      add(field, error.keyword === 'errorMessage' ? error.message! : `${field} is required`);
      continue;
    }
    const field = joinPath(error.instancePath);
    if (field === '') {
      add(part === 'body' ? 'body' : (part ?? 'request'), part === 'body' ? 'Request body must be a JSON object' : `Invalid ${part}`);
    } else if (error.keyword === 'errorMessage') {
      add(field, error.message!);
    } else if (part === 'querystring' && error.keyword === 'type') {
      // A query parameter is text; only a repeated one (?status=a&status=b) arrives as a list.
      add(field, `${field} must be given once`);
    } else {
      add(field, `${field} ${error.message}`);
    }
  }
  return details;
}

function joinPath(instancePath: string, last?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (last !== undefined) parts.push(last);
  return parts.join('.');
}

/**
 * The body's schema problems on a route with `attachValidation` (one that settles ownership
 * before it reports bad input, and adds rules of its own): `{}` when the body is valid. A bad
 * path parameter, query string or header is thrown as on any route.
 */
export function bodyProblems(request: FastifyRequest): ErrorDetails {
  const error = request.validationError as (Error & { validation?: ErrorObject[]; validationContext?: string }) | undefined;
  if (!error) return {};
  if (error.validationContext !== 'body' || !error.validation) throw error;
  return validationDetails(error.validation, 'body');
}

/**
 * The route validator for input that does not come over HTTP (the CLI's flags read into a
 * body): the same compiled checks and messages as the route with this body schema.
 */
export function bodyChecker(schema: TSchema): (body: unknown) => ErrorDetails {
  const validate = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '' }) as unknown as ((data: unknown) => boolean) & {
    errors?: ErrorObject[] | null;
  };
  return (body) => (validate(body) ? {} : validationDetails(validate.errors ?? [], 'body'));
}
