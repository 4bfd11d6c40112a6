import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Machine secrets: 256 random bits with a readable prefix. They are stored as HMAC-SHA256 under a
 * server pepper: as strong as a slow hash for secrets this random, and cheap enough that the
 * token endpoint cannot be turned into a CPU-exhaustion lever.
 */
export function generateSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(pepper: Buffer, secret: string): Buffer {
  return createHmac('sha256', pepper).update(secret).digest();
}

export function secretMatches(pepper: Buffer, secret: string, storedHash: Buffer): boolean {
  const candidate = hashSecret(pepper, secret);
  return candidate.length === storedHash.length && timingSafeEqual(candidate, storedHash);
}
