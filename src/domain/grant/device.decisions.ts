import { constantTimeEqual } from '../crypto.js';
import { DEVICE_CODE_GRANT_TYPE } from '../events/event-schema.js';
import type { GrantEvent } from '../events.js';
import { AuthorizationPending, DeviceAccessDenied, ExpiredToken, InvalidGrant, InvalidRequest, SlowDown } from '../oauth-errors.js';
import { later, type DeviceGrantCommand, type SignedIn } from './grant-commands.js';
import { accessTokenIssued, idTokenIssued, tokenAudience, userAuthenticated } from './grant-events.js';
import type { DeviceRequest, GrantState } from './grant-state.js';

type Command<K extends DeviceGrantCommand['kind']> = Extract<DeviceGrantCommand, { kind: K }>;

/** RFC 8628 section 3.5: each slow_down makes the interval this much longer, for good. */
export const SLOW_DOWN_SECONDS = 5;

/** One answer for every user code that cannot be decided on (unknown, expired, decided): the page tells a guesser nothing. */
export const badUserCode = () => new InvalidRequest('the code is not valid, or has expired');
// One message for every way a device code can be bad, as for codes and refresh tokens.
export const badDeviceCode = () => new InvalidGrant('the device code is invalid or already used');

/** RFC 8628 sections 3.1 and 3.2: the device's request, with both codes as hashes. */
export function decideRequestDeviceAuthorization(command: Command<'RequestDeviceAuthorization'>, state: GrantState): GrantEvent[] {
  // The grant's id comes from its user code (see src/commands/device-authorization.commands.ts): a stream already there means the code is taken.
  if (state.status !== 'none') throw new InvalidRequest('grant already exists');
  const { grantId, clientId, scopes, deviceCodeHash, userCodeHash, now, ttlSeconds, intervalSeconds, resources } = command;
  return [{ type: 'DeviceAuthorizationRequested', data: { grantId, clientId, scopes, deviceCodeHash, userCodeHash, expiresAt: later(now, ttlSeconds), interval: intervalSeconds, ...(resources ? { resources } : {}) } }];
}

/** Whether a user code may still decide this grant: a device's request waiting for the user, the code its own, not expired. */
export function awaitsUserWithCode(state: GrantState, userCodeHash: string, now: Date): boolean {
  const device = state.device;
  return !!device && state.status === 'device_pending' && !state.revoked && constantTimeEqual(device.userCodeHash, userCodeHash) && now.toISOString() < device.expiresAt;
}

function awaitingUser(state: GrantState, userCodeHash: string, now: Date): DeviceRequest {
  if (!awaitsUserWithCode(state, userCodeHash, now)) throw badUserCode();
  return state.device!;
}

const signedInFor = (state: GrantState, signedIn: SignedIn) => userAuthenticated(state.grantId!, signedIn);

/** RFC 8628 section 3.3: the user approved on the verification page; the device code now gives tokens, once. */
export function decideApproveDeviceAuthorization(command: Command<'ApproveDeviceAuthorization'>, state: GrantState): GrantEvent[] {
  const device = awaitingUser(state, command.userCodeHash, command.now);
  const grantId = state.grantId!;
  const { userId } = command.signedIn;
  return [
    signedInFor(state, command.signedIn),
    { type: 'ConsentGranted', data: { grantId, userId, clientId: state.clientId!, scopes: state.scopes, ...(device.resources ? { resources: device.resources } : {}) } },
    { type: 'DeviceCodeApproved', data: { grantId, userId, expiresAt: device.expiresAt } },
  ];
}

/** RFC 8628 section 3.3: the user denied the device; its next poll is access_denied. */
export function decideDenyDeviceAuthorization(command: Command<'DenyDeviceAuthorization'>, state: GrantState): GrantEvent[] {
  awaitingUser(state, command.userCodeHash, command.now);
  return [signedInFor(state, command.signedIn), { type: 'ConsentDenied', data: { grantId: state.grantId!, userId: command.signedIn.userId, clientId: state.clientId! } }];
}

/**
 * RFC 8628 section 3.4 and 3.5: the device polls with its device code. Until the user
 * decides: authorization_pending, or slow_down when it came back before the interval (which
 * then grows by five seconds). Then access_denied, expired_token, or the tokens the code
 * grant gives, once.
 */
export function decideRedeemDeviceCode(command: Command<'RedeemDeviceCode'>, state: GrantState): GrantEvent[] {
  const { device, grantId } = state;
  if (!device || !grantId || !constantTimeEqual(device.deviceCodeHash, command.deviceCodeHash) || state.clientId !== command.clientId) throw badDeviceCode();
  if (state.revoked || state.status === 'redeemed') throw badDeviceCode();
  if (state.status === 'denied') throw new DeviceAccessDenied('the user denied the device');
  const { now } = command;
  if (now.toISOString() >= device.expiresAt) throw new ExpiredToken('the device code has expired; start again');
  if (state.status === 'device_pending') {
    const interval = command.lastPoll?.intervalSeconds ?? device.interval;
    if (command.lastPoll && now.getTime() - command.lastPoll.at.getTime() < interval * 1000) throw new SlowDown(interval + SLOW_DOWN_SECONDS);
    throw new AuthorizationPending(interval);
  }
  if (state.status !== 'device_approved' || !state.userId) throw badDeviceCode();
  const events: GrantEvent[] = [
    { type: 'DeviceCodeRedeemed', data: { grantId, clientId: command.clientId } },
    accessTokenIssued(state, DEVICE_CODE_GRANT_TYPE, state.scopes, command.token, now, tokenAudience(device.resources, command.resources, command.token.defaultAudience)),
    ...idTokenIssued(state, state.scopes, command.token, command.idToken, now),
  ];
  if (command.refreshToken) {
    events.push({
      type: 'RefreshTokenIssued',
      data: { grantId, tokenHash: command.refreshToken.hash, expiresAt: later(now, command.refreshToken.ttlSeconds), userId: state.userId, ...(command.refreshToken.jkt ? { jkt: command.refreshToken.jkt } : {}) },
    });
  }
  return events;
}
