import { randomBytes } from 'node:crypto';

/** What a stored object is; the first segment of its key, so each kind has a folder of its own. */
export const OBJECT_KINDS = ['audio', 'pdf'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** 128 random bits, base64url: 22 characters. */
const ID_LENGTH = 22;

/**
 * A new key such as `audio/Qd4YaoWAqUqUu-fRwvIWqg`. Keys are random, never derived from a company
 * or followup number: a signed URL shared by mistake tells nothing about whose file it is, and
 * its neighbours cannot be guessed.
 */
export function newObjectKey(kind: ObjectKind): string {
  return `${kind}/${randomBytes(16).toString('base64url')}`;
}

/**
 * Whether `key` is one newObjectKey could have made: a known kind, a slash, 22 base64url
 * characters. Nothing else reaches a path or a bucket, so no key can name `..`, an absolute path
 * or another folder. A character loop, no regex: this runs on every /media request.
 */
export function isObjectKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0 || key.length !== slash + 1 + ID_LENGTH) return false;
  if (!(OBJECT_KINDS as readonly string[]).includes(key.slice(0, slash))) return false;
  for (let i = slash + 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const base64url = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
    if (!base64url) return false;
  }
  return true;
}

/** Throws unless `key` is a valid object key: a caller passing anything else is a bug. */
export function assertObjectKey(key: string): void {
  if (!isObjectKey(key)) throw new InvalidObjectKey(key);
}

export class InvalidObjectKey extends Error {
  constructor(key: string) {
    super(`Not an object key: ${JSON.stringify(key.slice(0, 64))} (expected <kind>/<22 base64url characters>, from newObjectKey)`);
    this.name = 'InvalidObjectKey';
  }
}
