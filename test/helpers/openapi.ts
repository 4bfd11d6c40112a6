import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** The published document, loosely typed for walking it. */
export type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, Response>; headers: Record<string, { schema: object }> } & Record<string, any>;
} & Record<string, any>;

export interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; schema: object; example?: unknown }[];
  requestBody?: { content: Record<string, { schema: object; example?: unknown }> };
  responses: Record<string, Response | { $ref: string }>;
}

export interface Response {
  description: string;
  headers?: Record<string, { $ref: string }>;
  content?: Record<string, { schema: object; example?: unknown }>;
}

/**
 * Validates values against schemas of the document: each schema is checked inside a wrapper
 * that carries the document's components, so that its `#/components/...` references resolve.
 */
export function schemaChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const cache = new Map<object, ReturnType<typeof ajv.compile>>();
  return (schema: object, value: unknown): ErrorObject[] => {
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile({ $defs: { target: schema }, $ref: '#/$defs/target', components: document.components });
      cache.set(schema, validate);
    }
    return validate(value) ? [] : validate.errors ?? [];
  };
}

/** The response object an operation documents for a status, its `$ref` followed. */
export function documentedResponse(document: OpenApiDocument, operation: Operation, status: number): Response | undefined {
  const response = operation.responses[String(status)];
  if (response && '$ref' in response) return document.components.responses[response.$ref.split('/').pop()!];
  return response;
}

/** Every operation of the document with its method and path. */
export function operations(document: OpenApiDocument): { method: string; path: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ method, path, operation })));
}
