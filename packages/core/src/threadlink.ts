// createThreadlink: assembly only. The config becomes one CoreContext (context.ts), each use case
// is built from it (one module per use case, named after what it does), and the Threadlink object
// (api.ts) is those use cases put together.
import type EventEmitter from 'eventemitter3';
import type { Threadlink, ThreadlinkConfig } from './api.js';
import { createOAuthCallback } from './connect/callback.js';
import { completeWithSession, createConnectComplete } from './connect/complete.js';
import { createConnectStart } from './connect/start.js';
import { createConnectionCommands } from './connections/manage.js';
import { createOffboarding } from './connections/offboard.js';
import { createContactSuggestions } from './contacts/suggest.js';
import { createCoreContext } from './context.js';
import { createLifecycle } from './engine/lifecycle.js';
import { createMaintain } from './engine/maintain.js';
import { createHealthChecks } from './health/checks.js';
import { createHandler } from './http/handler.js';
import { registerInternals } from './internals.js';
import { createRematching } from './matching/rematch.js';
import { createAttachmentRead } from './messages/attachment.js';
import { createBodyRead } from './messages/body.js';
import { createCompose } from './messages/compose.js';
import { createForward } from './messages/forward.js';
import { createDraftContext } from './messages/draft-context.js';
import { createReply } from './messages/reply.js';
import { withLabelNames, type LabeledMessage } from './labels/names.js';
import { createOrgCommands } from './org/commands.js';
import { createOrgConsentCallback } from './org/connect.js';
import { createBackground } from './util/background.js';
import { createPolicyCommands } from './policy/commands.js';
import { createTimelineReads } from './timeline/reads.js';
import { createReceiveWebhook } from './webhooks/receive.js';

export function createThreadlink(config: ThreadlinkConfig): Threadlink {
  const context = createCoreContext(config);
  const { events, providers, limits, urls } = context;
  const maintain = createMaintain(context);
  const complete = createConnectComplete(context);
  const body = createBodyRead(context);
  const { disconnect, export: exportConnection } = createOffboarding(context);
  const background = createBackground();
  const handler = Object.assign(
    createHandler(
      {
        webhook: createReceiveWebhook(context),
        oauthCallback: createOAuthCallback(context, complete),
        orgCallback: createOrgConsentCallback(context, background),
        isProvider: (id) => providers.has(id),
      },
      { basePath: urls.basePath, maxBodyBytes: limits.maxBodyBytes, logger: context.logger },
    ),
    { maxBodyBytes: limits.maxBodyBytes },
  );

  const contacts = createContactSuggestions(context);
  // Announcing costs a store query and a resolver call per synced page: only while someone listens.
  events.on('message.synced', ({ message, created }) => {
    if (created && events.listenerCount('contact.suggested') > 0) contacts.noteSynced(message);
  });
  const lifecycle = createLifecycle(context, maintain);

  const threadlink: Threadlink = {
    handler,
    events,
    on(name, listener) {
      // eventemitter3's mapped listener type does not narrow through a generic key.
      const untyped = events as unknown as EventEmitter;
      untyped.on(name, listener);
      return () => void untyped.off(name, listener);
    },
    urls: { redirectUri: urls.redirectUri, webhook: urls.webhook },
    limits,
    ...lifecycle,
    // Announcements of new contact suggestions follow the sync work that queued them.
    idle: async () => {
      await background.settled();
      await lifecycle.idle();
      await contacts.settled();
    },
    stop: async () => {
      // Stopping starts at once (health reports it, pushes get 503); background org work finishes meanwhile.
      const stopping = lifecycle.stop();
      await background.settled();
      await stopping;
      await contacts.settled();
    },
    maintain,
    health: createHealthChecks(context),
    connect: { start: createConnectStart(context), complete: completeWithSession(complete) },
    connections: { ...createConnectionCommands(context), disconnect, export: exportConnection },
    timeline: createTimelineReads(context),
    messages: {
      get: async (messageId, scope) => {
        const [message] = await withLabelNames(context.store, scope.tenantId, [(await context.messageFor(messageId, scope)).message]);
        return message as LabeledMessage;
      },
      body,
      attachment: createAttachmentRead(context),
      send: createCompose(context),
      forward: createForward(context),
      reply: createReply(context),
      draftContext: createDraftContext(context, body),
    },
    contacts: { suggest: contacts.suggest },
    matching: createRematching(context),
    policy: createPolicyCommands(context),
    org: createOrgCommands(context),
  };
  registerInternals(threadlink, { engine: context.engine, store: context.store, queue: context.queue, matcher: context.matcher, sealer: context.sealer });
  return threadlink;
}
