import type { Decider } from './decider.js';
import type { SigningKeyEvent, SigningKeyGenerated } from './events.js';
import { InvalidRequest } from './oauth-errors.js';

/**
 * A signing key's life, staged so that no verifier ever meets a token signed by a key
 * it has not seen: published first, active later, superseded while its tokens live,
 * then retired.
 */
export type SigningKeyCommand =
  | { kind: 'GenerateSigningKey'; key: SigningKeyGenerated['data'] }
  | { kind: 'ActivateSigningKey' }
  | { kind: 'SupersedeSigningKey'; supersededBy: string; retireAfter: string }
  | { kind: 'RetireSigningKey' };

export type SigningKeyState = { status: 'none' | 'published' | 'active' | 'superseded' | 'retired'; kid: string | null };

export const signingKeyDecider: Decider<SigningKeyCommand, SigningKeyState, SigningKeyEvent> = {
  initialState: { status: 'none', kid: null },
  evolve: (state, event) => {
    switch (event.type) {
      case 'SigningKeyGenerated':
        return { status: 'published', kid: event.data.kid };
      case 'SigningKeyActivated':
        return { ...state, status: 'active' };
      case 'SigningKeyRotated':
        return { ...state, status: 'superseded' };
      case 'SigningKeyRetired':
        return { ...state, status: 'retired' };
    }
  },
  decide(command, state) {
    switch (command.kind) {
      case 'GenerateSigningKey':
        if (state.status !== 'none') throw new InvalidRequest('signing key already exists');
        if ('d' in command.key.publicJwk) throw new InvalidRequest('refusing to record a private key in an event');
        return [{ type: 'SigningKeyGenerated', data: command.key }];
      case 'ActivateSigningKey':
        if (state.status !== 'published' || !state.kid) throw new InvalidRequest('only a published key can be activated');
        return [{ type: 'SigningKeyActivated', data: { kid: state.kid } }];
      case 'SupersedeSigningKey':
        if (state.status !== 'active' || !state.kid) throw new InvalidRequest('only an active key can be superseded');
        return [{ type: 'SigningKeyRotated', data: { kid: state.kid, supersededBy: command.supersededBy, retireAfter: command.retireAfter } }];
      case 'RetireSigningKey':
        if (state.status !== 'superseded' || !state.kid) throw new InvalidRequest('only a superseded key can be retired');
        return [{ type: 'SigningKeyRetired', data: { kid: state.kid } }];
    }
  },
};
