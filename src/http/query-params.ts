import { Type } from '@sinclair/typebox';

/*
 * List query parameters as the published document shows them. The validator takes them as plain
 * strings and the list's own parser checks them, so that every bad one is reported in one 400 in
 * the API's words; these say what that parser accepts.
 */

/** One value or a comma-separated list (`status=scheduled,no_answer`; spaces around a value are ignored). */
export const EnumListParam = (values: readonly string[], description: string, example: string[]) =>
  Type.Optional(Type.Array(Type.Unsafe<string>({ type: 'string', enum: [...values] }), { minItems: 1, description, examples: [example] }));

/** A timestamp as parseTimestamp reads it (time/timestamp.ts). */
export const TimestampParam = (description: string, examples: string[] = []) =>
  Type.Optional(Type.String({ format: 'iso-timestamp', maxLength: 40, description, ...(examples.length > 0 && { examples }) }));
