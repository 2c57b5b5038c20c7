// Delegated permissions each Graph call needs, any one of a list sufficing
// (learn.microsoft.com/graph/permissions-reference). Tokens carry what the
// user consented to in `scp`; a call outside it is a 403, as in Graph.
export const USER_READ = ['User.Read', 'User.ReadWrite', 'User.ReadBasic.All', 'User.Read.All', 'Directory.Read.All'] as const;
export const MAIL_READ_BASIC = ['Mail.ReadBasic', 'Mail.Read', 'Mail.ReadWrite'] as const;
/** Mail.ReadBasic excludes body, bodyPreview, uniqueBody and attachments. */
export const MAIL_READ_CONTENT = ['Mail.Read', 'Mail.ReadWrite'] as const;
export const MAIL_WRITE = ['Mail.ReadWrite'] as const;
export const MAIL_SEND = ['Mail.Send'] as const;

export function hasAnyScope(granted: readonly string[], wanted: readonly string[]): boolean {
  return wanted.some((scope) => granted.some((candidate) => candidate.toLowerCase() === scope.toLowerCase()));
}
