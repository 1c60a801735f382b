import type { GrantEvent } from '../events.js';
import { later, type GrantCommand } from './grant-commands.js';
import { consentAndCode, decisionOn, requestAndSignIn } from './grant-events.js';
import type { GrantState } from './grant-state.js';

type Command<K extends GrantCommand['kind']> = Extract<GrantCommand, { kind: K }>;

/** Steps 1 to 3 on record in one append: the request, who signed in, the consent and the code. */
export function decideGrantConsent(command: Command<'GrantConsent'>, state: GrantState): GrantEvent[] {
  const { request, signedIn } = decisionOn(state, command.held, command.browserSessionHash, command.now);
  return [
    ...requestAndSignIn(request, signedIn),
    ...consentAndCode(request, signedIn.userId, command.codeHash, later(command.now, command.codeTtlSeconds), command.rememberedFrom),
  ];
}

/** The request and the sign-in on record with the user's refusal: the grant ends there. */
export function decideDenyConsent(command: Command<'DenyConsent'>, state: GrantState): GrantEvent[] {
  const { request, signedIn } = decisionOn(state, command.held, command.browserSessionHash, command.now);
  return [...requestAndSignIn(request, signedIn), { type: 'ConsentDenied', data: { grantId: request.grantId, userId: signedIn.userId, clientId: request.clientId } }];
}
