// The one shape both adapters are built in: every operation is a plain function taking the
// provider instance's context first (parsed options plus whatever state the instance keeps:
// Gmail's quota budgets, Outlook's MSAL and concurrency gates), and the adapter's index.ts only
// binds that context. A provider that grows a port method without its operation does not compile.
import type { ComposeDraft, LabelRef, MessageBody, ProviderId, SubscriptionState } from '../domain/schemas.js';
import type {
  AttachmentContent,
  AuthorizeUrlInput,
  ExchangeCodeInput,
  ExchangedAccount,
  FetchAttachmentOptions,
  ForwardContext,
  FullSyncOptions,
  FullSyncPage,
  MailProvider,
  ProviderSession,
  PullOptions,
  PullResult,
  ReplyContext,
  SentMessage,
  SubscribeResult,
  WebhookContext,
  WebhookOutcome,
} from '../ports/mail-provider.js';

/** MailProvider's methods, each with the adapter's context as its first argument. */
export interface ProviderOperations<Context> {
  authorizeUrl(context: Context, input: AuthorizeUrlInput): string | Promise<string>;
  exchangeCode(context: Context, input: ExchangeCodeInput): Promise<ExchangedAccount>;
  revoke(context: Context, session: ProviderSession): Promise<void>;
  subscribe(context: Context, session: ProviderSession): Promise<SubscribeResult>;
  renew(context: Context, session: ProviderSession): Promise<{ subscription: SubscriptionState }>;
  unsubscribe(context: Context, session: ProviderSession): Promise<void>;
  handleWebhook(context: Context, request: Request, route: string, webhook: WebhookContext): Promise<WebhookOutcome>;
  pullChanges(context: Context, session: ProviderSession, cursor: string, options?: PullOptions): Promise<PullResult>;
  fullSync(context: Context, session: ProviderSession, resume: string | null, options: FullSyncOptions): Promise<FullSyncPage>;
  /** Optional as on the port: an adapter without a label directory leaves it out. */
  listLabels?(context: Context, session: ProviderSession): Promise<LabelRef[]>;
  fetchBody(context: Context, session: ProviderSession, providerMessageId: string): Promise<MessageBody>;
  /** Optional like the port's: a provider without it cannot send new messages. */
  compose?(context: Context, session: ProviderSession, draft: ComposeDraft): Promise<SentMessage>;
  forward?(context: Context, session: ProviderSession, forward: ForwardContext): Promise<SentMessage>;
  /** Optional like the port's: a provider without it answers ATTACHMENT_UNSUPPORTED through core. */
  fetchAttachment?(
    context: Context,
    session: ProviderSession,
    providerMessageId: string,
    attachmentId: string,
    options: FetchAttachmentOptions,
  ): Promise<AttachmentContent>;
  send(context: Context, session: ProviderSession, reply: ReplyContext): Promise<SentMessage>;
}

/** The MailProvider whose methods are `operations` bound to `context`. */
export function bindProvider<Context>(id: ProviderId, context: Context, operations: ProviderOperations<Context>): MailProvider {
  const { listLabels } = operations;
  return {
    ...(listLabels === undefined ? {} : { listLabels: (session: ProviderSession) => listLabels(context, session) }),
    id,
    authorizeUrl: (input) => operations.authorizeUrl(context, input),
    exchangeCode: (input) => operations.exchangeCode(context, input),
    revoke: (session) => operations.revoke(context, session),
    subscribe: (session) => operations.subscribe(context, session),
    renew: (session) => operations.renew(context, session),
    unsubscribe: (session) => operations.unsubscribe(context, session),
    handleWebhook: (request, route, webhook) => operations.handleWebhook(context, request, route, webhook),
    pullChanges: (session, cursor, options) => operations.pullChanges(context, session, cursor, options),
    fullSync: (session, resume, options) => operations.fullSync(context, session, resume, options),
    fetchBody: (session, providerMessageId) => operations.fetchBody(context, session, providerMessageId),
    send: (session, reply) => operations.send(context, session, reply),
    ...(operations.compose === undefined
      ? {}
      : {
          compose: (session: ProviderSession, draft: ComposeDraft) => (operations.compose as NonNullable<typeof operations.compose>)(context, session, draft),
        }),
    ...(operations.forward === undefined
      ? {}
      : {
          forward: (session: ProviderSession, forward: ForwardContext) =>
            (operations.forward as NonNullable<typeof operations.forward>)(context, session, forward),
        }),
    ...(operations.fetchAttachment === undefined
      ? {}
      : {
          fetchAttachment: (session: ProviderSession, providerMessageId: string, attachmentId: string, options: FetchAttachmentOptions) =>
            (operations.fetchAttachment as NonNullable<typeof operations.fetchAttachment>)(context, session, providerMessageId, attachmentId, options),
        }),
  };
}
