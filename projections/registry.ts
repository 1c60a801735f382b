import { clientsProjection } from './clients.projection.js';
import { clientUsageProjection } from './client-usage.projection.js';
import { backChannelLogoutsProjection } from './back-channel-logouts.projection.js';
import { grantsProjection } from './grants.projection.js';
import { resourceServersProjection } from './resource-servers.projection.js';
import { recentAuthorizationsProjection } from './recent-authorizations.projection.js';
import type { Projection } from './projection.js';
import { signInSessionsProjection } from './sign-in-sessions.projection.js';
import { signingKeysProjection } from './signing-keys.projection.js';
import { tokenStatusProjection } from './token-status.projection.js';
import { usersProjection } from './users.projection.js';

/** Every projection, by name. Rebuild and audit tools iterate over this. */
export const projectionRegistry: readonly Projection[] = [
  clientsProjection,
  usersProjection,
  signingKeysProjection,
  tokenStatusProjection,
  grantsProjection,
  signInSessionsProjection,
  recentAuthorizationsProjection,
  backChannelLogoutsProjection,
  resourceServersProjection,
  clientUsageProjection,
] as Projection[];

/** The authorization server's read side. */
export const authorizationServerProjections = [clientsProjection, usersProjection, signingKeysProjection, grantsProjection, signInSessionsProjection, recentAuthorizationsProjection, backChannelLogoutsProjection, resourceServersProjection, clientUsageProjection] as Projection[];

/** What a resource server needs to validate tokens and serve a profile. */
export const resourceServerProjections = [signingKeysProjection, tokenStatusProjection, usersProjection] as Projection[];

export function projectionNamed(name: string): Projection | undefined {
  return projectionRegistry.find((p) => p.name === name);
}
