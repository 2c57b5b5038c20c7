// Which mailbox a Graph path names (issue 19). A user's own connection acts on `/me` with a
// delegated token; an organization's mailbox connection (`session.grant`) acts on
// `/users/{object id}` with an app-only token — Graph refuses `/me` without a signed-in user
// ("/me request is only valid with delegated authentication flow"). Every operation builds its
// paths from GraphSession.mailboxPath, so both kinds run the same code.
import type { ProviderSession } from '@threadlink/core/provider';

export function mailboxPath(session: Pick<ProviderSession, 'grant'>): string {
  return session.grant ? usersPath(session.grant.mailbox) : '/me';
}

/** `/users/{id or address}`: the path of one directory user's mailbox. */
export function usersPath(mailbox: string): string {
  return `/users/${encodeURIComponent(mailbox)}`;
}
