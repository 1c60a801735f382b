import type { Decider } from './decider.js';
import type { GrantEvent } from './events.js';
import { decideDenyConsent, decideGrantConsent } from './grant/consent.decisions.js';
import { decideApproveDeviceAuthorization, decideDenyDeviceAuthorization, decideRedeemDeviceCode, decideRequestDeviceAuthorization } from './grant/device.decisions.js';
import type { GrantCommand } from './grant/grant-commands.js';
import { evolveGrant, grantSnapshot, initialGrantState, type GrantState } from './grant/grant-state.js';
import { decideRevokeAccessToken, decideRevokeGrant, decideRevokeRefreshToken } from './grant/revocation.decisions.js';
import { decideIssueClientCredentialsToken, decideRedeemAuthorizationCode, decideRefreshAccessToken } from './grant/token.decisions.js';

export * from './grant/grant-commands.js';
export * from './grant/grant-state.js';

/**
 * One authorization grant, from the authorization request through login, consent and the
 * code to every token issued under it, refreshed, and revoked: its state and evolve in
 * grant/grant-state.ts, one named decision per command in grant/*.decisions.ts, and here
 * only the dispatch.
 */
export function decideGrant(command: GrantCommand, state: GrantState): GrantEvent[] {
  switch (command.kind) {
    case 'GrantConsent':
      return decideGrantConsent(command, state);
    case 'DenyConsent':
      return decideDenyConsent(command, state);
    case 'RedeemAuthorizationCode':
      return decideRedeemAuthorizationCode(command, state);
    case 'RefreshAccessToken':
      return decideRefreshAccessToken(command, state);
    case 'IssueClientCredentialsToken':
      return decideIssueClientCredentialsToken(command, state);
    case 'RevokeAccessToken':
      return decideRevokeAccessToken(command, state);
    case 'RevokeRefreshToken':
      return decideRevokeRefreshToken(command, state);
    case 'RevokeGrant':
      return decideRevokeGrant(command, state);
    case 'RequestDeviceAuthorization':
      return decideRequestDeviceAuthorization(command, state);
    case 'ApproveDeviceAuthorization':
      return decideApproveDeviceAuthorization(command, state);
    case 'DenyDeviceAuthorization':
      return decideDenyDeviceAuthorization(command, state);
    case 'RedeemDeviceCode':
      return decideRedeemDeviceCode(command, state);
  }
}

export const grantDecider: Decider<GrantCommand, GrantState, GrantEvent> = {
  initialState: initialGrantState,
  evolve: evolveGrant,
  decide: decideGrant,
  snapshot: grantSnapshot,
  // A grant refreshed for a month holds thousands of token ids and spent hashes; a new one, none.
  weigh: (state) => 1 + state.accessTokens.size + state.spentRefreshTokenHashes.size + state.revokedAccessTokens.size,
};

