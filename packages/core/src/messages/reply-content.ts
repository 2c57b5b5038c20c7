// "A reply needs text or html", stated once. Core checks it before a reply reaches any adapter;
// adapters that check again (a provider called directly) can import this instead of a copy.
import type { ReplyDraft } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';

/** Throws INVALID_INPUT unless the draft has a non-empty text or html part. */
export function assertReplyHasContent(draft: Pick<ReplyDraft, 'text' | 'html'>): void {
  if (!draft.text && !draft.html) throw new ThreadlinkError('INVALID_INPUT', 'A reply needs text or html');
}
