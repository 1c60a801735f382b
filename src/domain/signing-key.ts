import type { Decider } from '../cqrs/decider.js';
import type { SigningKeyEvent, SigningKeyGenerated } from './events.js';
import { InvalidRequest } from './oauth-errors.js';

/** Generated keys are published before they sign: activation is a separate, later step. */
export type SigningKeyCommand =
  | { kind: 'GenerateSigningKey'; key: SigningKeyGenerated['data'] }
  | { kind: 'ActivateSigningKey' };

export type SigningKeyState = { status: 'none' | 'generated' | 'active'; kid: string | null };

export const signingKeyDecider: Decider<SigningKeyCommand, SigningKeyState, SigningKeyEvent> = {
  initialState: { status: 'none', kid: null },
  evolve: (state, event) =>
    event.type === 'SigningKeyGenerated' ? { status: 'generated', kid: event.data.kid } : { ...state, status: 'active' },
  decide(command, state) {
    if (command.kind === 'GenerateSigningKey') {
      if (state.status !== 'none') throw new InvalidRequest('signing key already exists');
      if ('d' in command.key.publicJwk) throw new InvalidRequest('refusing to record a private key in an event');
      return [{ type: 'SigningKeyGenerated', data: command.key }];
    }
    if (state.status !== 'generated' || !state.kid) throw new InvalidRequest('only a generated key can be activated');
    return [{ type: 'SigningKeyActivated', data: { kid: state.kid } }];
  },
};
