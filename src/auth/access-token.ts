import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isScope, type Scope } from './scopes.js';

export const TOKEN_TTL_SECONDS = 3600;
const PREFIX = 'rl_at_';

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
}

/**
 * Access tokens are self-contained and HMAC-signed: verifying one is a hash over a few hundred
 * bytes, with no database round trip on the request path. Nothing about a token is stored.
 * Format: rl_at_<base64url(JSON claims)>.<base64url(HMAC-SHA256)>.
 */
export class TokenSigner {
  constructor(private readonly key: Buffer) {}

  issue(claims: Omit<TokenClaims, 'exp'>, now = Date.now()): { token: string; exp: number } {
    const exp = Math.floor(now / 1000) + TOKEN_TTL_SECONDS;
    const body = {
      c: claims.clientRowId,
      i: claims.clientId,
      o: claims.companyId,
      s: claims.scopes.join(' '),
      e: exp,
      n: randomBytes(9).toString('base64url'),
    };
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    return { token: `${PREFIX}${payload}.${this.sign(payload)}`, exp };
  }

  /** The claims of a genuine, unexpired token; undefined for anything else. */
  verify(token: string, now = Date.now()): TokenClaims | undefined {
    if (token.length > 2048 || !token.startsWith(PREFIX)) return undefined;
    const dot = token.indexOf('.', PREFIX.length);
    if (dot < 0) return undefined;
    const payload = token.slice(PREFIX.length, dot);
    // Compared as text: base64url decoding skips stray characters, so comparing decoded bytes
    // would accept many spellings of one token.
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let body: { c?: unknown; i?: unknown; o?: unknown; s?: unknown; e?: unknown };
    try {
      body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof body !== 'object' || body === null) return undefined;
    const { c, i, o, s, e } = body;
    if (typeof c !== 'number' || typeof i !== 'string' || typeof o !== 'number' || typeof s !== 'string') return undefined;
    if (typeof e !== 'number' || e * 1000 <= now) return undefined;
    const scopes = s === '' ? [] : s.split(' ');
    if (!scopes.every(isScope)) return undefined;
    return { clientRowId: c, clientId: i, companyId: o, scopes, exp: e };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(PREFIX).update(payload).digest('base64url');
  }
}
