import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { open, seal } from '../auth/access-token.js';

export const SECRET_PREFIX = 'whsec_';
/** 256 bits: the least a signing secret may hold, generated or given. */
export const SECRET_MIN_BYTES = 32;
const SECRET_MAX_BYTES = 128;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A new signing secret: `whsec_` and the standard base64 of 32 random bytes (the Standard Webhooks form). */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_MIN_BYTES).toString('base64');
}

/** What is wrong with a secret a client chose, if anything. */
export function secretProblem(secret: string): string | undefined {
  const message = `secret must be "${SECRET_PREFIX}" followed by the standard base64 of ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} random bytes`;
  if (!secret.startsWith(SECRET_PREFIX)) return message;
  const text = secret.slice(SECRET_PREFIX.length);
  if (text.length > 4 * Math.ceil(SECRET_MAX_BYTES / 3) || !BASE64.test(text)) return message;
  const key = Buffer.from(text, 'base64');
  // Only the one canonical spelling: a verifier decoding it another way would get other bytes.
  if (key.toString('base64') !== text || key.length < SECRET_MIN_BYTES || key.length > SECRET_MAX_BYTES) return message;
  return undefined;
}

/** Signing secrets are read back to sign, so they are kept sealed (AES-256-GCM under keys.webhooks), never in clear. */
export function sealSecret(key: Buffer, secret: string): Buffer {
  return seal(key, Buffer.from(secret, 'utf8'));
}

export function openSecret(key: Buffer, sealed: Buffer): string {
  const plain = open(key, sealed);
  if (!plain) throw new Error('a webhook secret does not open with this key');
  return plain.toString('utf8');
}

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'x-getbill-signature': string;
}

/**
 * The signatures of one body under every secret in use (newest first; two during a rotation's
 * overlap): Standard Webhooks `v1,<base64>` values, space-separated, over `id.timestamp.body`
 * with the decoded secret, and X-GetBill-Signature values, comma-separated, each the hex
 * HMAC-SHA256 of the raw body keyed with the secret string itself.
 */
export function signatureHeaders(secrets: readonly string[], eventId: string, body: string, at: Date): SignatureHeaders {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(eventId, at, body)).join(' '),
    'x-getbill-signature': secrets.map((secret) => createHmac('sha256', secret).update(body).digest('hex')).join(','),
  };
}
