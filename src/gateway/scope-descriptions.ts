/** What each scope lets an application do, in the words the consent pages (code flow and device) show. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in with your account here',
  profile: 'See your profile: your name, username and email address',
  email: 'See your email address',
  offline_access: 'Keep access while you are away, until you revoke it',
  'items:read': 'See your list of items',
};
