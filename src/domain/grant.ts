import type { Decider } from '../cqrs/decider.js';
import { constantTimeEqual } from './crypto.js';
import type { AuthorizationRequested, GrantEvent } from './events.js';
import { InvalidGrant, InvalidRequest } from './oauth-errors.js';
import { verifiesS256 } from './pkce.js';

/**
 * One authorization grant, from the authorization request through login, consent and
 * the code to the tokens issued for it (RFC 6749 section 4.1, RFC 7636).
 */

export type GrantCommand =
  | {
      kind: 'RequestAuthorization';
      request: Omit<AuthorizationRequested['data'], 'expiresAt'>;
      now: Date;
      /** How long the user has to log in and consent. */
      ttlSeconds: number;
    }
  | { kind: 'AuthenticateUser'; userId: string; username: string; browserSessionHash: string; now: Date }
  | { kind: 'GrantConsent'; browserSessionHash: string; codeHash: string; now: Date; codeTtlSeconds: number }
  | { kind: 'DenyConsent'; browserSessionHash: string; now: Date }
  | {
      kind: 'RedeemAuthorizationCode';
      codeHash: string;
      clientId: string;
      redirectUri: string | undefined;
      codeVerifier: string;
      now: Date;
      token: { jti: string; kid: string; audience: string; ttlSeconds: number };
    };

export interface GrantState {
  status: 'none' | 'requested' | 'authenticated' | 'denied' | 'code_issued' | 'redeemed';
  request: AuthorizationRequested['data'] | null;
  userId: string | null;
  username: string | null;
  scopes: string[];
  codeHash: string | null;
  codeExpiresAt: string | null;
}

export const initialGrantState: GrantState = {
  status: 'none',
  request: null,
  userId: null,
  username: null,
  scopes: [],
  codeHash: null,
  codeExpiresAt: null,
};

export function evolveGrant(state: GrantState, event: GrantEvent): GrantState {
  switch (event.type) {
    case 'AuthorizationRequested':
      return { ...state, status: 'requested', request: event.data };
    case 'UserAuthenticated':
      return { ...state, status: 'authenticated', userId: event.data.userId, username: event.data.username };
    case 'ConsentGranted':
      return { ...state, scopes: event.data.scopes };
    case 'ConsentDenied':
      return { ...state, status: 'denied' };
    case 'AuthorizationCodeIssued':
      return { ...state, status: 'code_issued', codeHash: event.data.codeHash, codeExpiresAt: event.data.expiresAt };
    case 'AuthorizationCodeRedeemed':
      return { ...state, status: 'redeemed' };
    case 'AccessTokenIssued':
      return state;
  }
}

const later = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();

/** Login and consent must come from the browser that made the request, before it expires. */
function interactive(state: GrantState, browserSessionHash: string, now: Date): AuthorizationRequested['data'] {
  const request = state.request;
  if (!request) throw new InvalidRequest('unknown authorization request');
  if (!constantTimeEqual(request.browserSessionHash, browserSessionHash)) {
    throw new InvalidRequest('this authorization request belongs to another browser session');
  }
  if (now.toISOString() >= request.expiresAt) throw new InvalidRequest('the authorization request has expired');
  return request;
}

export function decideGrant(command: GrantCommand, state: GrantState): GrantEvent[] {
  switch (command.kind) {
    case 'RequestAuthorization': {
      if (state.status !== 'none') throw new InvalidRequest('authorization request already exists');
      return [
        {
          type: 'AuthorizationRequested',
          data: { ...command.request, expiresAt: later(command.now, command.ttlSeconds) },
        },
      ];
    }
    case 'AuthenticateUser': {
      const request = interactive(state, command.browserSessionHash, command.now);
      if (state.status !== 'requested') throw new InvalidRequest('the user has already signed in for this request');
      return [
        {
          type: 'UserAuthenticated',
          data: { grantId: request.grantId, userId: command.userId, username: command.username, method: 'password' },
        },
      ];
    }
    case 'GrantConsent': {
      const request = interactive(state, command.browserSessionHash, command.now);
      if (state.status !== 'authenticated' || !state.userId) throw new InvalidRequest('consent was already given or the user is not signed in');
      return [
        {
          type: 'ConsentGranted',
          data: { grantId: request.grantId, userId: state.userId, clientId: request.clientId, scopes: request.scopes },
        },
        {
          type: 'AuthorizationCodeIssued',
          data: { grantId: request.grantId, codeHash: command.codeHash, expiresAt: later(command.now, command.codeTtlSeconds) },
        },
      ];
    }
    case 'DenyConsent': {
      const request = interactive(state, command.browserSessionHash, command.now);
      if (state.status !== 'authenticated' || !state.userId) throw new InvalidRequest('consent was already given or the user is not signed in');
      return [{ type: 'ConsentDenied', data: { grantId: request.grantId, userId: state.userId, clientId: request.clientId } }];
    }
    case 'RedeemAuthorizationCode': {
      const request = state.request;
      // One message for every way a code can be bad: a caller learns nothing about which.
      const refuse = () => new InvalidGrant('the authorization code is invalid, expired or already used');
      if (!request || !state.codeHash || !state.codeExpiresAt || !state.userId) throw refuse();
      if (!constantTimeEqual(state.codeHash, command.codeHash)) throw refuse();
      if (state.status !== 'code_issued') throw refuse();
      if (command.now.toISOString() >= state.codeExpiresAt) throw refuse();
      if (request.clientId !== command.clientId) throw refuse();
      if (request.redirectUriSent ? command.redirectUri !== request.redirectUri : command.redirectUri !== undefined && command.redirectUri !== request.redirectUri) {
        throw new InvalidGrant('redirect_uri does not match the authorization request');
      }
      if (!verifiesS256(command.codeVerifier, request.codeChallenge)) throw new InvalidGrant('code_verifier does not match the code_challenge');
      const { token } = command;
      return [
        { type: 'AuthorizationCodeRedeemed', data: { grantId: request.grantId, clientId: request.clientId } },
        {
          type: 'AccessTokenIssued',
          data: {
            grantId: request.grantId,
            jti: token.jti,
            kid: token.kid,
            clientId: request.clientId,
            userId: state.userId,
            audience: token.audience,
            scopes: state.scopes,
            issuedAt: command.now.toISOString(),
            expiresAt: later(command.now, token.ttlSeconds),
          },
        },
      ];
    }
  }
}

export const grantDecider: Decider<GrantCommand, GrantState, GrantEvent> = {
  initialState: initialGrantState,
  evolve: evolveGrant,
  decide: decideGrant,
};
