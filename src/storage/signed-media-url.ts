import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signed part of a local media URL: `/media/<key>?expires=<unix seconds>&signature=<hmac>`,
 * plus `filename` and `type` when the link overrides them. The HMAC (SHA-256 under the derived
 * `media` key, base64url) covers all four, so none can be changed without the key.
 */
export interface MediaLink {
  key: string;
  /** Unix seconds; the link is good while the clock is before it. */
  expires: number;
  filename?: string;
  contentType?: string;
}

export const MEDIA_PATH = '/media/';

export function signMediaLink(secret: Buffer, link: MediaLink): string {
  // A JSON array is an unambiguous encoding: no choice of filename can make two links sign alike.
  const message = JSON.stringify(['relance-media-1', link.key, link.expires, link.filename ?? null, link.contentType ?? null]);
  return createHmac('sha256', secret).update(message).digest('base64url');
}

/**
 * Compares as text, in constant time: a decoded comparison would accept another spelling of the
 * same bytes (base64url's last character carries spare bits).
 */
export function mediaSignatureMatches(secret: Buffer, link: MediaLink, signature: string): boolean {
  const expected = Buffer.from(signMediaLink(secret, link));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function mediaLinkPath(secret: Buffer, link: MediaLink): string {
  const query = new URLSearchParams({ expires: String(link.expires) });
  if (link.filename !== undefined) query.set('filename', link.filename);
  if (link.contentType !== undefined) query.set('type', link.contentType);
  query.set('signature', signMediaLink(secret, link));
  return `${MEDIA_PATH}${link.key}?${query}`;
}
