// Which OAuth scopes each Gmail method accepts (the `scopes` lists of
// discovery/gmail-v1.json), and the restrictions of `gmail.metadata`.
const GOOGLE = 'https://www.googleapis.com/auth/';

export const SCOPES = {
  full: 'https://mail.google.com/',
  modify: `${GOOGLE}gmail.modify`,
  readonly: `${GOOGLE}gmail.readonly`,
  metadata: `${GOOGLE}gmail.metadata`,
  send: `${GOOGLE}gmail.send`,
  compose: `${GOOGLE}gmail.compose`,
  labels: `${GOOGLE}gmail.labels`,
  email: `${GOOGLE}userinfo.email`,
  profile: `${GOOGLE}userinfo.profile`,
  openid: 'openid',
} as const;

const read = [SCOPES.full, SCOPES.metadata, SCOPES.modify, SCOPES.readonly];

export const METHOD_SCOPES: Readonly<Record<string, readonly string[]>> = {
  getProfile: [...read, SCOPES.compose],
  watch: read,
  stop: read,
  'history.list': read,
  'labels.list': [...read, SCOPES.labels],
  'labels.get': [...read, SCOPES.labels],
  'labels.create': [SCOPES.full, SCOPES.modify, SCOPES.labels],
  'labels.patch': [SCOPES.full, SCOPES.modify, SCOPES.labels],
  'labels.update': [SCOPES.full, SCOPES.modify, SCOPES.labels],
  'labels.delete': [SCOPES.full, SCOPES.modify, SCOPES.labels],
  'messages.list': read,
  'messages.get': read,
  'messages.attachments.get': [SCOPES.full, SCOPES.modify, SCOPES.readonly],
  'messages.send': [SCOPES.full, SCOPES.compose, SCOPES.modify, SCOPES.send],
  'messages.modify': [SCOPES.full, SCOPES.modify],
  'messages.trash': [SCOPES.full, SCOPES.modify],
  'messages.untrash': [SCOPES.full, SCOPES.modify],
  'messages.delete': [SCOPES.full],
  'threads.get': read,
  'threads.list': read,
};

/** Google's consent-screen wording, for the emulator's consent page. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [SCOPES.full]: 'Read, compose, send, and permanently delete all your email from Gmail',
  [SCOPES.modify]: 'Read, compose, and send emails from your Gmail account',
  [SCOPES.readonly]: 'View your email messages and settings',
  [SCOPES.metadata]: 'View your email message metadata such as labels and headers, but not the email body',
  [SCOPES.send]: 'Send email on your behalf',
  [SCOPES.compose]: 'Manage drafts and send emails',
  [SCOPES.labels]: 'See and edit your email labels',
  [SCOPES.email]: 'See your primary Google Account email address',
  [SCOPES.profile]: 'See your personal info, including any personal info you have made publicly available',
  [SCOPES.openid]: 'Associate you with your personal info on Google',
};

/** `email` / `profile` shorthands expand to their URLs, and both imply `openid` (as Google grants them). */
export function normalizeScopes(requested: string): string[] {
  const scopes = new Set<string>();
  for (const scope of requested.split(/[\s+]+/).filter(Boolean)) {
    if (scope === 'email') scopes.add(SCOPES.email);
    else if (scope === 'profile') scopes.add(SCOPES.profile);
    else scopes.add(scope);
  }
  if (scopes.has(SCOPES.email) || scopes.has(SCOPES.profile)) scopes.add(SCOPES.openid);
  return [...scopes];
}

/**
 * A token that carries `gmail.metadata` gets the metadata restrictions (no
 * format=full/raw, no `q`) even when it also carries gmail.readonly/modify — a
 * documented-by-users quirk (ask for one of them, not both); only the full
 * https://mail.google.com/ scope lifts it.
 */
export function isMetadataRestricted(scopes: readonly string[]): boolean {
  return scopes.includes(SCOPES.metadata) && !scopes.includes(SCOPES.full);
}
