import { Type, type TSchema } from '@sinclair/typebox';

/** `{"error": false, "message", "data"}`: the success envelope around one object. */
export function Envelope<T extends TSchema>(data: T, description: string) {
  return Type.Object(
    { error: Type.Literal(false), message: Type.String(), data },
    { description },
  );
}

export function ok<T>(message: string, data: T) {
  return { error: false as const, message, data };
}

/** `{"error": false, "data", "pagination"}`: the success envelope around a page of a list. */
export function listed<T, P>(data: T[], pagination: P) {
  return { error: false as const, data, pagination };
}

/** A JSON value that may be null: `type: [T, "null"]`, which the serializer handles natively. */
export function Nullable<T extends TSchema>(schema: T) {
  const { type, enum: values, ...rest } = schema as unknown as { type: string; enum?: unknown[] };
  return Type.Unsafe<T['static'] | null>({ ...rest, type: [type, 'null'], ...(values && { enum: [...values, null] }) });
}
