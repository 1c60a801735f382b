import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { DEVICE_CODE_GRANT_TYPE } from '../domain/events/event-schema.js';
import type { CommandSide } from './command-side.js';

export const DEMO_USER = { username: 'alice', password: 'wonderland', name: 'Alice Liddell', email: 'alice@example.com' };
export const DEMO_WEB_CLIENT_ID = 'demo-web';
export const DEMO_PUBLIC_CLIENT_ID = 'demo-public';
/** A device with no browser of its own (RFC 8628): what `npm run device-login` signs in as. */
export const DEMO_DEVICE_CLIENT_ID = 'demo-device';

export interface DemoSeed {
  user: typeof DEMO_USER;
  /** The scope the demo asks for: with openid once the client is registered for it (data seeded before were not). */
  webClient: { clientId: string; clientSecret: string; redirectUri: string; scope: string };
  publicClient: { clientId: string; redirectUri: string };
}

/**
 * A demo user and two demo clients, registered once through the same commands as the
 * command line. The confidential client's secret is kept by the demo client in its own
 * file, as any client keeps its credentials; the server keeps only its hash.
 */
export async function seedDemo(side: CommandSide, config: Config): Promise<DemoSeed> {
  const { readModel } = side.ports;
  const secretFile = join(config.dataDir, 'demo-client.json');
  const webRedirect = `${config.demoClientUrl}/callback`;
  const publicRedirect = `${config.demoClientUrl}/public/callback`;

  if (!readModel.userByUsername(DEMO_USER.username)) {
    await side.admin.registerUser(DEMO_USER);
  }
  let clientSecret: string;
  if (!readModel.client(DEMO_WEB_CLIENT_ID) || !existsSync(secretFile)) {
    if (readModel.client(DEMO_WEB_CLIENT_ID)) {
      throw new Error(`${secretFile} is missing: the demo client's secret is lost; remove the data directory to seed again`);
    }
    const registered = await side.admin.registerClient({
      clientId: DEMO_WEB_CLIENT_ID, name: 'Demo web app', clientType: 'confidential', redirectUris: [webRedirect], scopes: ['openid', 'profile', 'items:read'],
      // An OpenID relying party: signs out through the authorization server, and hears when the user signs out there.
      postLogoutRedirectUris: [`${config.demoClientUrl}/`],
      backchannelLogoutUri: `${config.demoClientUrl}/backchannel`,
      backchannelLogoutSessionRequired: true,
    });
    clientSecret = registered.clientSecret!;
    writeFileSync(secretFile, JSON.stringify({ clientId: DEMO_WEB_CLIENT_ID, clientSecret }), { mode: 0o600 });
  } else {
    clientSecret = (JSON.parse(readFileSync(secretFile, 'utf8')) as { clientSecret: string }).clientSecret;
  }
  if (!readModel.client(DEMO_PUBLIC_CLIENT_ID)) {
    await side.admin.registerClient({
      clientId: DEMO_PUBLIC_CLIENT_ID, name: 'Demo public app', clientType: 'public', redirectUris: [publicRedirect, 'http://127.0.0.1/callback'], scopes: ['profile', 'items:read'],
    });
  }
  if (!readModel.client(DEMO_DEVICE_CLIENT_ID)) {
    await side.admin.registerClient({
      clientId: DEMO_DEVICE_CLIENT_ID, name: 'Demo device', clientType: 'public', redirectUris: [], scopes: ['openid', 'profile', 'items:read'],
      grantTypes: [DEVICE_CODE_GRANT_TYPE, 'refresh_token'],
    });
  }
  await side.readSide.waitFor(await side.ports.store.headPosition());
  return {
    user: DEMO_USER,
    webClient: {
      clientId: DEMO_WEB_CLIENT_ID,
      clientSecret,
      redirectUri: webRedirect,
      scope: readModel.client(DEMO_WEB_CLIENT_ID)?.scopes.includes('openid') ? 'openid profile items:read' : 'profile items:read',
    },
    publicClient: { clientId: DEMO_PUBLIC_CLIENT_ID, redirectUri: publicRedirect },
  };
}
