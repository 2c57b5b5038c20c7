// The provider's options, parsed with zod at the boundary so a misconfigured host fails at
// start-up with CONFIG_INVALID instead of at the first webhook. Strict, like Gmail's: an unknown
// key is a typo or an option that no longer exists, and ignoring it would hide the mistake.
import { parseProviderOptions } from '@threadlink/core/provider';
import { z } from 'zod';

/**
 * Folders left out of sync by default: what a user threw away (Deleted Items), spam (Junk Email),
 * unsent drafts (Drafts) and mail in transit (Outbox: it moves to Sent Items once sent).
 */
const DEFAULT_EXCLUDED_FOLDERS = ['deleteditems', 'junkemail', 'drafts', 'outbox'] as const;

const HttpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL (msal-node refuses plain-http authorities)' });

export const OutlookProviderOptions = z
  .strictObject({
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    /** 'common' (work/school and personal accounts), 'organizations', 'consumers' or a tenant id. */
    tenant: z.string().min(1).default('common'),
    /**
     * 'metadata': sync only (Mail.ReadBasic), no bodies, replies through /reply (Mail.Send). 'full': adds
     * Mail.Read for body on demand and, with `replies: 'draft'`, Mail.ReadWrite.
     */
    mode: z.enum(['full', 'metadata']).default('full'),
    /**
     * How replies are sent. 'draft' (full mode's default): createReply draft + /send, which needs
     * Mail.ReadWrite and returns the sent message's id at once. 'direct' (metadata mode's only
     * choice): /reply with Mail.Send alone, for tenants that will not consent to Mail.ReadWrite; the
     * result then carries no id and the sent copy arrives through delta.
     */
    replies: z.enum(['draft', 'direct']).optional(),
    authorityHost: HttpsUrl.default('https://login.microsoftonline.com'),
    graphBaseUrl: z.url({ protocol: /^https?$/ }).default('https://graph.microsoft.com'),
    /** PEM of a CA to trust for the authority host (a local emulator); production leaves it unset. */
    caCertificate: z.string().min(1).optional(),
    /**
     * Every mail folder is synced (Inbox, Sent Items, Archive, user folders and their children,
     * folders created later) except these and everything below them. Each entry is a well-known
     * folder name (`deleteditems`, `junkemail`, `drafts`, `outbox`, `archive`, `inbox`, …) or a
     * folder's display name (case-insensitive). A message moved into an excluded folder is removed
     * from the CRM, as a delete is.
     */
    excludeFolders: z
      .array(z.string().trim().min(1).max(255))
      .max(100)
      .default([...DEFAULT_EXCLUDED_FOLDERS]),
    /** `Prefer: odata.maxpagesize` for delta pages during real-time sync. */
    pageSize: z.number().int().min(1).max(1000).default(100),
    /**
     * Throttling waits (Retry-After) up to this long are slept through inside a call; longer ones
     * surface as RATE_LIMITED with retryAfterMs so the engine reschedules instead of holding a worker.
     */
    maxInlineRetryMs: z.number().int().min(0).max(60_000).default(5_000),
    /**
     * Each Graph request's deadline in ms, from asking for it to the end of its answer: past it the
     * request is abandoned and counts as a transport failure (retried like one; a send is not
     * repeated). Graph's client sets none. Gmail's `requestTimeoutMs` has the same default.
     */
    requestTimeoutMs: z.number().int().positive().default(30_000),
  })
  .superRefine((options, context) => {
    if (options.mode === 'metadata' && options.replies === 'draft') {
      context.addIssue({
        code: 'custom',
        path: ['replies'],
        message: "'draft' needs Mail.ReadWrite, which also grants bodies; metadata mode replies 'direct'",
      });
    }
  })
  .transform((options) => ({ ...options, replies: options.replies ?? (options.mode === 'full' ? 'draft' : 'direct') }));
export type OutlookProviderOptions = z.input<typeof OutlookProviderOptions>;
export type ResolvedOutlookOptions = z.output<typeof OutlookProviderOptions>;

export function parseOutlookOptions(input: unknown): ResolvedOutlookOptions {
  return parseProviderOptions(OutlookProviderOptions, input, 'outlookProvider');
}

/** Attachment names need Mail.Read, which only full mode is granted (Mail.ReadBasic cannot read attachments at all). */
export function readsAttachmentNames(options: ResolvedOutlookOptions): boolean {
  return options.mode === 'full';
}
