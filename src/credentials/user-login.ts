import type { UserDocument } from '../read-model/documents.js';
import type { ReadModel } from '../read-model/read-model.js';
import type { SecretStore } from './secret-store.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password.js';

/**
 * The user with this username and password, or undefined (also for a disabled user). An unknown username costs the
 * same scrypt work as a wrong password, so timing does not tell which it was.
 */
export async function checkUserPassword(ports: { readModel: ReadModel; secrets: SecretStore }, username: string, password: string): Promise<UserDocument | undefined> {
  const user = ports.readModel.userByUsername(username);
  const stored = (user && (await ports.secrets.get('password', user.userId))) ?? DUMMY_PASSWORD_HASH;
  const valid = await verifyPassword(password, stored);
  return user && valid && !user.disabled ? user : undefined;
}
