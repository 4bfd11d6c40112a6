import type { TokenClaims, TokenSealer } from './access-token.js';
import type { ClientStates } from './client-states.js';
import type { ClientState } from './clients-repository.js';

/**
 * Checks a bearer token: sealed by this server and unexpired (no I/O), then against its
 * client's current state, from memory (ClientStates): the client exists and is enabled, the
 * token is of its current epoch and not revoked. The scopes that count are those the token was
 * given and the client still has.
 */
export class TokenVerifier {
  constructor(readonly sealer: TokenSealer, readonly states: ClientStates) {}

  async verify(token: string): Promise<TokenClaims | undefined> {
    const claims = this.sealer.verify(token);
    if (!claims) return undefined;
    const state = await this.states.get(claims.clientRowId);
    return state && liveClaims(claims, state);
  }
}

/** The claims of a sealed token as its client's state allows them now, or undefined. */
export function liveClaims(claims: TokenClaims, state: ClientState): TokenClaims | undefined {
  if (state.disabled || state.companyId !== claims.companyId || claims.epoch < state.epoch) return undefined;
  if (claims.tokenId !== undefined && state.revoked.has(claims.tokenId)) return undefined;
  return { ...claims, scopes: claims.scopes.filter((scope) => state.scopes.includes(scope)) };
}
