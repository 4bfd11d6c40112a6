import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Tracked URLs carry a token that is a reference, not a sealed payload: the followup and, for a
 * click, the destination are kept server-side in tracking_links, found by the token's SHA-256.
 * A token therefore cannot be edited to point anywhere else (no open redirect), the database
 * never holds a usable token, and a forged one simply finds nothing.
 * - A click token is 256 random bits.
 * - The pixel token is HMAC-SHA256(tracking key, followup id): stable per followup, so the pixel
 *   URL can be asked for again although only its hash is stored, and unguessable without the key.
 * Both are 43 base64url characters, so nothing tells them apart from outside.
 */
export function newClickToken(): string {
  return randomBytes(32).toString('base64url');
}

export function pixelToken(trackingKey: Buffer, followupId: number): string {
  return createHmac('sha256', trackingKey).update(`open:${followupId}`).digest('base64url');
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Whether `text` can be a token at all: anything else is unknown without a query. */
export function isTokenShaped(text: string): boolean {
  return text.length === 43 && TOKEN.test(text);
}
