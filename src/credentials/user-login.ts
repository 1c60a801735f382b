import { userKey, type UserDocument } from '../../projections/users.projection.js';
import type { Ports } from '../commands/ports.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password.js';

/**
 * The user with this username and password, or undefined (also for a disabled user). An unknown username costs the
 * same scrypt work as a wrong password, so timing does not tell which it was.
 */
export async function checkUserPassword(ports: Pick<Ports, 'readModel' | 'secrets'>, username: string, password: string): Promise<UserDocument | undefined> {
  const userId = ports.readModel.get<string>('users', userKey.byUsername(username));
  const user = userId ? ports.readModel.get<UserDocument>('users', userKey.byId(userId)) : undefined;
  const stored = (user && ports.secrets.get('password', user.userId)) ?? DUMMY_PASSWORD_HASH;
  const valid = await verifyPassword(password, stored);
  return user && valid && !user.disabled ? user : undefined;
}
