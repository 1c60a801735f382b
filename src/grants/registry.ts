import { authorizationCodeGrant } from './authorization-code.grant.js';
import { clientCredentialsGrant } from './client-credentials.grant.js';
import { deviceCodeGrant } from './device-code.grant.js';
import { refreshTokenGrant } from './refresh-token.grant.js';
import type { TokenGrant } from './token-grant.js';

/** The grant types the token endpoint serves, by `grant_type`. */
export const tokenGrants: ReadonlyMap<string, TokenGrant> = new Map([authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant, deviceCodeGrant].map((grant) => [grant.grantType, grant]));

/** Every grant type's command handlers, for the command bus. */
export const tokenGrantHandlers = [...tokenGrants.values()].flatMap((grant) => grant.handlers);
