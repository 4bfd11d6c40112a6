/**
 * What a lookup by id scoped to a company finds: the row, a row of another company (which the
 * API answers with 403 without revealing it), or nothing.
 */
export type Lookup<T> = { found: T } | { forbidden: true } | undefined;
