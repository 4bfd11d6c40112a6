/**
 * A start Relance refuses for a reason the operator can act on (a folder in use, a key that does
 * not match the database): the message says what happened and what to do, and is printed alone,
 * without a stack.
 */
export class StartRefused extends Error {
  override name = 'StartRefused';
}
