import type { Runtime } from '../runtime.js';
import { IdCodec } from '../security/encrypted-id.js';

/** A mistake in the command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

export type Options = Record<string, string | boolean | undefined>;
export type Command = (runtime: Runtime, options: Options) => Promise<unknown>;

export const idsOf = (runtime: Runtime) => new IdCodec(runtime.keys.ids);

export function required(options: Options, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function optional(options: Options, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

export function companyOf(runtime: Runtime, options: Options): number {
  const id = idsOf(runtime).decode('company', required(options, 'company'));
  if (id === undefined) throw new UsageError('--company must be a company ID printed by `relance company create`');
  return id;
}

export function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23503';
}
