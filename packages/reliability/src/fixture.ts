// A small settled deployment for the hostile-input and privacy tests: one Gmail and one Outlook
// mailbox connected through the real consent flows, some mail synced, no faults.
import type { PublicConnection, ThreadlinkEventName } from '@threadlink/core';
import { seededRandom } from './random.js';
import type { StoreKind } from './stores.js';
import { createWorld, type World } from './world.js';

export interface ConnectedWorld {
  world: World;
  gmail: PublicConnection;
  outlook: PublicConnection;
  gmailEmail: string;
  outlookEmail: string;
  /** A request to the deployment's public URL, abandoned (and failed) after `boundMs`. */
  send(path: string, init: RequestInit & { boundMs?: number }): Promise<Response>;
  /** Provider API calls made so far (Gmail API + Graph, sign-in traffic excluded). */
  providerCalls(): number;
  /** Events of a kind so far. */
  eventCount(name: ThreadlinkEventName, where?: (json: string) => boolean): number;
}

export interface ConnectedWorldOptions {
  storeKind?: StoreKind;
  seed?: number;
  tenantId?: string;
  /** Extra mail in the mailboxes before they are connected (the back-fill path). */
  beforeConnect?: (world: World, mailboxes: { gmail: string; outlook: string }) => Promise<void>;
}

export async function connectedWorld(options: ConnectedWorldOptions = {}): Promise<ConnectedWorld> {
  const world = await createWorld({
    random: seededRandom(options.seed ?? 11),
    storeKind: options.storeKind ?? 'memory',
    ...(options.tenantId ? { tenantId: options.tenantId } : {}),
  });
  const gmailEmail = 'ana@acme.test';
  const outlookEmail = 'cleo@contoso.test';
  world.google.addMailbox({ email: gmailEmail });
  world.microsoft.addMailbox({ email: outlookEmail });
  await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'Before connect – PRJ-1001', text: 'hello' });
  await world.microsoft.deliver({ from: 'buyer@bigco.test', to: outlookEmail, subject: 'Before connect – PRJ-1002', text: 'hello' });
  await options.beforeConnect?.(world, { gmail: gmailEmail, outlook: outlookEmail });
  const gmail = await world.connect('gmail', gmailEmail);
  const outlook = await world.connect('outlook', outlookEmail);
  await world.settle();
  return {
    world,
    gmail,
    outlook,
    gmailEmail,
    outlookEmail,
    send: (path, init) => {
      const { boundMs = 5_000, ...rest } = init;
      return fetch(`${world.publicUrl}${path}`, { ...rest, signal: AbortSignal.timeout(boundMs) });
    },
    providerCalls: () =>
      world.google.log.entries.filter((entry) => entry.path.startsWith('/gmail/') || entry.path.startsWith('/batch/')).length +
      world.microsoft.log.entries.filter((entry) => !entry.operation?.startsWith('identity.')).length,
    eventCount: (name, where) => world.events.filter((event) => event.name === name && (!where || where(event.json))).length,
  };
}
