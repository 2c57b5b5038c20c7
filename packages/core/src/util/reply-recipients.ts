// Who a reply goes to, decided once for every adapter: the provider's own "reply" composition
// differs (Gmail composes nothing, Exchange composes its own list), and a CRM user must get the
// same recipients whichever mailbox the original sits in.
import type { Participant } from '../domain/schemas.js';
import type { ReplyContext } from '../ports/mail-provider.js';

export interface ReplyRecipients {
  to: Participant[];
  cc: Participant[];
}

/** What the rule reads of a reply: the original's address fields and the draft's reply-all and extra Cc. */
export interface ReplyRecipientsInput {
  original: Pick<ReplyContext['original'], 'from' | 'to' | 'cc' | 'replyTo'>;
  draft: Pick<ReplyContext['draft'], 'replyAll' | 'cc'>;
}

/**
 * Reply-To, else the sender; when the original is the user's own message (a follow-up to what
 * they sent), its recipients instead, or the reply would go to the user. Reply-all adds the
 * original's other To and Cc; the draft's own Cc come last. The user's own address is never a
 * recipient and nobody is named twice; addresses compare case-insensitively (the local part is
 * case-sensitive by RFC 5321, but no mail system in practice treats two casings as two people).
 */
export function replyRecipients(reply: ReplyRecipientsInput, accountEmail: string): ReplyRecipients {
  const self = accountEmail.toLowerCase();
  const { original, draft } = reply;
  const ownMessage = original.from?.address.toLowerCase() === self;
  const primary = ownMessage ? original.to : original.replyTo.length > 0 ? original.replyTo : original.from ? [original.from] : [];
  const seen = new Set<string>([self]);
  const take = (list: readonly Participant[]): Participant[] =>
    list.filter((participant) => {
      const key = participant.address.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const to = take(primary);
  const others = draft.replyAll ? [...(ownMessage ? [] : original.to), ...original.cc] : [];
  const cc = take([...others, ...(draft.cc ?? []).map((address) => ({ address }))]);
  return { to, cc };
}
