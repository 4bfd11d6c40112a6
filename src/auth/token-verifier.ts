import type { TokenClaims, TokenSealer } from './access-token.js';
import type { ClientStates } from './client-states.js';
import type { ClientState } from './clients-repository.js';

/** Tokens whose seal was checked, remembered per process; past this many the oldest goes. */
const MAX_OPENED = 10_000;

/**
 * Checks a bearer token: sealed by this server and unexpired (no I/O), then against its
 * client's current state, from memory (ClientStates): the client exists and is enabled, the
 * token is of its current epoch and not revoked. The scopes that count are those the token was
 * given and the client still has.
 *
 * What a seal says never changes, so a genuine token's claims are remembered (a bounded map,
 * only of tokens that opened: garbage cannot fill it) and not decrypted again; its expiry and
 * its client's state are checked on every request as before, so disabling, rotating and
 * revoking take effect exactly as without the map.
 */
export class TokenVerifier {
  private readonly opened = new Map<string, TokenClaims>();

  constructor(readonly sealer: TokenSealer, readonly states: ClientStates) {}

  async verify(token: string, now = Date.now()): Promise<TokenClaims | undefined> {
    const claims = this.opened.get(token) ?? this.open(token, now);
    if (!claims) return undefined;
    if (claims.exp * 1000 <= now) {
      this.opened.delete(token);
      return undefined;
    }
    const state = await this.states.get(claims.clientRowId);
    return state && liveClaims(claims, state);
  }

  private open(token: string, now: number): TokenClaims | undefined {
    const claims = this.sealer.verify(token, now);
    if (!claims) return undefined;
    if (this.opened.size >= MAX_OPENED) this.opened.delete(this.opened.keys().next().value!);
    this.opened.set(token, claims);
    return claims;
  }
}

/** The claims of a sealed token as its client's state allows them now, or undefined. */
export function liveClaims(claims: TokenClaims, state: ClientState): TokenClaims | undefined {
  if (state.disabled || state.companyId !== claims.companyId || claims.epoch < state.epoch) return undefined;
  if (claims.tokenId !== undefined && state.revoked.has(claims.tokenId)) return undefined;
  return { ...claims, scopes: claims.scopes.filter((scope) => state.scopes.includes(scope)) };
}
