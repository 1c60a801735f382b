import { InvalidRequest } from './oauth-errors.js';

/**
 * What the client asks of the sign-in step, with OpenID Connect Core's parameters (section
 * 3.1.2.1), which OAuth clients use as well: `prompt` and `max_age`.
 */
export type Prompt = 'none' | 'login' | 'consent' | 'select_account';
const PROMPTS: readonly string[] = ['none', 'login', 'consent', 'select_account'];

export interface SignInRequirements {
  prompt: ReadonlySet<Prompt>;
  /** Seconds since the password was last given beyond which it must be given again. */
  maxAgeSeconds: number | undefined;
}

export function signInRequirements(prompt: string | undefined, maxAge: string | undefined): SignInRequirements {
  const values = new Set((prompt ?? '').split(' ').filter(Boolean));
  const unknown = [...values].filter((v) => !PROMPTS.includes(v));
  // Named from the list, never echoed: the description goes back to the client at its redirect URI.
  if (unknown.length > 0) throw new InvalidRequest(`prompt must be one of ${PROMPTS.join(', ')}`);
  if (values.has('none') && values.size > 1) throw new InvalidRequest('prompt=none cannot be combined with other values');
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) throw new InvalidRequest('max_age must be a whole number of seconds');
  return { prompt: values as Set<Prompt>, maxAgeSeconds: maxAge === undefined ? undefined : Number(maxAge) };
}

/** Whether a sign-in session may stand in for the password (select_account: let the user choose again). */
export const sessionMayStandIn = (requirements: SignInRequirements): boolean =>
  !requirements.prompt.has('login') && !requirements.prompt.has('select_account');
