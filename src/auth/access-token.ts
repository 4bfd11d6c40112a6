import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { isScope, type Scope } from './scopes.js';

export const TOKEN_TTL_SECONDS = 3600;
const PREFIX = 'rl_at_';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The prefix is bound to the ciphertext, so a token cannot be passed off as another kind. */
const ASSOCIATED_DATA = Buffer.from(PREFIX);

/** What a verified access token says about its bearer. */
export interface TokenClaims {
  /** Internal id of the API client. */
  clientRowId: number;
  /** Public client_id, for history sources and logs. */
  clientId: string;
  companyId: number;
  scopes: Scope[];
  /** Expiry, unix seconds. */
  exp: number;
  /** The client's token epoch when the token was issued: a token of an older epoch is dead. */
  epoch: number;
  /** Random identifier of this token, by which it can be revoked (absent from older tokens). */
  tokenId?: string;
}

/**
 * Access tokens are self-contained and sealed with AES-256-GCM: verifying one is a decryption
 * of a few hundred bytes, with no database round trip on the request path, and its holder can
 * neither change nor read its claims (internal ids stay internal). Nothing about a token is
 * stored. Format: rl_at_<base64url(IV ‖ encrypted JSON claims ‖ GCM tag)>.
 */
export class TokenSealer {
  constructor(private readonly key: Buffer) {}

  issue(claims: Omit<TokenClaims, 'exp' | 'epoch' | 'tokenId'> & { epoch?: number }, now = Date.now()): { token: string; exp: number } {
    const exp = Math.floor(now / 1000) + TOKEN_TTL_SECONDS;
    const body = {
      c: claims.clientRowId, i: claims.clientId, o: claims.companyId, s: claims.scopes.join(' '), e: exp,
      v: claims.epoch ?? 0, j: randomBytes(12).toString('base64url'),
    };
    return { token: PREFIX + seal(this.key, Buffer.from(JSON.stringify(body))).toString('base64url'), exp };
  }

  /** The claims of a genuine, unexpired token; undefined for anything else. */
  verify(token: string, now = Date.now()): TokenClaims | undefined {
    if (token.length > 2048 || !token.startsWith(PREFIX)) return undefined;
    const text = token.slice(PREFIX.length);
    const sealed = Buffer.from(text, 'base64url');
    // base64url decoding skips stray characters and spare bits: only the one canonical spelling
    // of the bytes is the token.
    if (sealed.toString('base64url') !== text) return undefined;
    const plain = open(this.key, sealed);
    if (!plain) return undefined;
    let body: { c?: unknown; i?: unknown; o?: unknown; s?: unknown; e?: unknown; v?: unknown; j?: unknown };
    try {
      body = JSON.parse(plain.toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof body !== 'object' || body === null) return undefined;
    const { c, i, o, s, e, v = 0, j } = body;
    if (typeof c !== 'number' || typeof i !== 'string' || typeof o !== 'number' || typeof s !== 'string') return undefined;
    if (typeof e !== 'number' || e * 1000 <= now) return undefined;
    // Tokens issued before epochs and token ids existed have neither: epoch 0, not revocable alone.
    if (!Number.isInteger(v) || (j !== undefined && typeof j !== 'string')) return undefined;
    const scopes = s === '' ? [] : s.split(' ');
    if (!scopes.every(isScope)) return undefined;
    return { clientRowId: c, clientId: i, companyId: o, scopes, exp: e, epoch: v as number, ...(j !== undefined && { tokenId: j as string }) };
  }
}

/** IV ‖ ciphertext ‖ tag, under a fresh random IV. */
export function seal(key: Buffer, plain: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(ASSOCIATED_DATA);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, encrypted, cipher.getAuthTag()]);
}

/** The plaintext of what `seal` made with `key`; undefined if it was not, or was altered. */
export function open(key: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
  const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(ASSOCIATED_DATA);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
