import { Ajv, type ErrorObject } from 'ajv';
import ajvErrors from 'ajv-errors';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { parseTimestamp } from '../time/timestamp.js';
import type { ErrorDetails } from './errors.js';

function buildAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, coerceTypes, useDefaults: false, removeAdditional: false, strict: false });
  addFormats.default(ajv);
  ajvErrors.default(ajv, { singleError: true });
  ajv.addFormat('iso-timestamp', { type: 'string', validate: (value: string) => parseTimestamp(value) !== undefined });
  return ajv;
}

// Bodies are JSON and must carry the right JSON types ("5" is not an integer); query strings,
// path parameters and headers are text and are coerced.
const bodyAjv = buildAjv(false);
const textAjv = buildAjv(true);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema) as ReturnType<FastifySchemaCompiler<object>>;

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
