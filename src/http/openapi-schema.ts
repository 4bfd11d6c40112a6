import type { TSchema } from '@sinclair/typebox';

/*
 * The published document is written from the very schemas that validate requests and serialize
 * responses, but not as they are: the validator reads keywords OpenAPI does not know
 * (`errorMessage`, its own `iso-timestamp` and `http-url` formats), and some schemas are
 * deliberately loose for the validator (list queries are strings parsed by hand, so that every
 * bad parameter is reported at once in the API's words) while the document must say exactly what
 * the server accepts. The marks below travel with a schema as symbol keys, which the validator
 * (Ajv), the serializer (fast-json-stringify) and the JSON of the document all ignore, so adding
 * one changes no validation message and no response byte.
 */

const COMPONENT = Symbol('openapi.component');
const PUBLISHED = Symbol('openapi.published');
const RESPONSE_HEADERS = Symbol('openapi.responseHeaders');

type Marked = Record<PropertyKey, unknown>;

/**
 * Names a schema: the document shows it once, under `components/schemas/<name>`, and refers to
 * it wherever it is used. The mark is not enumerable, so a schema spread into a new one (TypeBox's
 * Partial, Pick, Nullable) is not mistaken for the named one.
 */
export function named<T extends TSchema>(name: string, schema: T): T {
  Object.defineProperty(schema, COMPONENT, { value: name, enumerable: false });
  return schema;
}

/**
 * Keywords the document shows on this schema and the validator must not see (a `format` the
 * serializer would act on, say). Enumerable, so it survives TypeBox's Optional and Partial.
 */
export function publishedWith<T extends TSchema>(schema: T, keywords: Record<string, unknown>): T {
  (schema as unknown as Marked)[PUBLISHED] = { with: keywords };
  return schema;
}

/** The document shows `shown` in place of this schema (which must accept exactly the same). */
export function publishedAs<T extends TSchema>(schema: T, shown: TSchema | boolean): T {
  (schema as unknown as Marked)[PUBLISHED] = { as: shown };
  return schema;
}

/** Response headers (names of `components/headers`) that come with this response, beyond X-Request-Id. */
export function withResponseHeaders<T extends TSchema>(schema: T, headers: string[]): T {
  Object.defineProperty(schema, RESPONSE_HEADERS, { value: headers, enumerable: false, configurable: true });
  return schema;
}

export function responseHeadersOf(schema: unknown): string[] {
  return ((schema as Marked | undefined)?.[RESPONSE_HEADERS] as string[] | undefined) ?? [];
}

export function componentName(schema: unknown): string | undefined {
  return (schema as Marked | undefined)?.[COMPONENT] as string | undefined;
}

/** Keywords of JSON Schema 2020-12 that OpenAPI 3.1 documents; any other is left out. */
const KEYWORDS = new Set([
  'type', 'enum', 'const', 'format', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly',
  'properties', 'required', 'additionalProperties', 'patternProperties', 'propertyNames', 'minProperties', 'maxProperties',
  'items', 'prefixItems', 'contains', 'minItems', 'maxItems', 'uniqueItems',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern',
  'anyOf', 'oneOf', 'allOf', 'not', 'if', 'then', 'else', '$ref',
]);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties']);
const SCHEMA_VALUES = new Set(['additionalProperties', 'propertyNames', 'items', 'contains', 'not', 'if', 'then', 'else']);
const SCHEMA_LISTS = new Set(['prefixItems', 'anyOf', 'oneOf', 'allOf']);
/** TypeBox's Record: any key. */
const ANY_KEY = '^(.*)$';
/** The check `http-url` makes first (isHttpUrl); linear, and unanchored at the end on purpose. */
const HTTP_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]';

/**
 * A schema as the document shows it. Named schemas met on the way are converted once into
 * `components` and replaced by a `$ref`.
 */
export function toOpenApi(schema: unknown, components: Components): unknown {
  return convert(schema, components);
}

export interface Components {
  /** The converted named schemas, by name. */
  schemas: Record<string, unknown>;
  /** The schema each name was given to, so that two schemas cannot share one name. */
  sources: Map<string, unknown>;
}

function convert(schema: unknown, components: Components, asComponent = false): unknown {
  if (Array.isArray(schema)) return schema.map((item) => convert(item, components));
  if (schema === null || typeof schema !== 'object') return schema;
  const node = schema as Marked;
  const name = node[COMPONENT] as string | undefined;
  if (name !== undefined && !asComponent) {
    const source = components.sources.get(name);
    if (source !== undefined && source !== schema) throw new Error(`two different schemas are named ${name}`);
    if (source === undefined) {
      components.sources.set(name, schema);
      components.schemas[name] = convert(schema, components, true);
    }
    return { $ref: `#/components/schemas/${name}` };
  }
  const published = node[PUBLISHED] as { as?: unknown; with?: Record<string, unknown> } | undefined;
  if (published?.as !== undefined) return convert(published.as, components);

  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!KEYWORDS.has(key)) continue;
    if (SCHEMA_MAPS.has(key)) {
      out[key] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, convert(v, components)]));
    } else if (SCHEMA_VALUES.has(key) || SCHEMA_LISTS.has(key)) {
      out[key] = convert(value, components);
    } else if (key === 'const') {
      // Swagger UI reads `enum` better than `const`; the two say the same here.
      out.enum = [value];
    } else {
      out[key] = value;
    }
  }
  const anyKey = (out.patternProperties as Record<string, unknown> | undefined)?.[ANY_KEY];
  if (anyKey !== undefined && Object.keys(out.patternProperties as object).length === 1) {
    delete out.patternProperties;
    out.additionalProperties = anyKey;
  }
  if (out.format === 'http-url') {
    out.format = 'uri';
    out.pattern = HTTP_URL_PATTERN;
  }
  if (out.format === 'iso-timestamp') isoTimestamp(out);
  return published?.with ? { ...out, ...published.with } : out;
}

/**
 * `iso-timestamp` (time/timestamp.ts) takes an RFC 3339 date-time, a date-time without a zone
 * (read as UTC) or a date alone: shown as the two standard formats, the zone rule in words.
 */
function isoTimestamp(node: Record<string, unknown>): void {
  const nullable = Array.isArray(node.type) && node.type.includes('null');
  delete node.format;
  delete node.type;
  node.anyOf = [
    { type: 'string', format: 'date-time' },
    { type: 'string', format: 'date' },
    ...(nullable ? [{ type: 'null' }] : []),
  ];
  node.description = `${node.description ?? 'ISO 8601'}. A date-time without a zone is read as UTC; a date alone is 00:00 UTC.`;
}
