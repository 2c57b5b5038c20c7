// The security suite's attacks, one entry each: what the attacker (or the unlucky host) does, what
// must come of it, and a run that performs it against a live deployment and reports the status it
// got and whether any state changed. SECURITY.md's threat table names these entries; the suite
// (test/withstands-attacks.test.ts) runs the list on memory and PostgreSQL and prints the table.
// A new attack is one more entry here.
import type { DisconnectResult } from '@threadlink/core';
import type { ConnectedWorld } from './fixture.js';

/** What one attack did: the HTTP status (or the API outcome) and whether anything changed. */
interface AttackOutcome {
  status: number | string;
  stateChanged: boolean;
}

export interface Attack {
  /** The attack, as SECURITY.md names it. */
  name: string;
  /** The part of issue 17 (or earlier suite) it belongs to, for the table. */
  area: 'connect' | 'scope' | 'shared-address' | 'webhook' | 'hostile-webhook';
  /** What must happen, in words, for the table. */
  expected: string;
  /** Performs the attack; throws (an assertion) when the defence failed. */
  run(target: SecurityTarget): Promise<AttackOutcome>;
}

/** The deployment an attack runs against: a connected world plus a second tenant sharing both addresses. */
export interface SecurityTarget extends ConnectedWorld {
  /** The same Gmail / Outlook addresses, connected again in another tenant. */
  secondGmail: { id: string; tenantId: string };
  secondOutlook: { id: string; tenantId: string };
  /** A valid Pub/Sub push token. */
  pushToken(): Promise<string>;
  /** Whatever counts as "state" for a no-effect check, read now. */
  snapshot(): Promise<Snapshot>;
}

export interface Snapshot {
  providerCalls: number;
  acceptedHints: number;
  synced: number;
  connections: string;
  storeCalls: number;
}

class AttackFailed extends Error {}

function check(condition: boolean, message: string): void {
  if (!condition) throw new AttackFailed(message);
}

/** Runs `send`, settles, and reports the status and whether any effect is visible. */
async function observe(
  target: SecurityTarget,
  send: () => Promise<Response>,
): Promise<AttackOutcome & { response: Response; before: Snapshot; after: Snapshot }> {
  const before = await target.snapshot();
  const response = await send();
  await response.clone().arrayBuffer();
  await target.world.settle();
  const after = await target.snapshot();
  const stateChanged =
    after.providerCalls !== before.providerCalls ||
    after.acceptedHints !== before.acceptedHints ||
    after.synced !== before.synced ||
    after.connections !== before.connections;
  return { status: response.status, stateChanged, response, before, after };
}

/** The attack is refused (or harmlessly acked) with one of `allowed` and changes nothing. */
async function expectNoEffect(
  target: SecurityTarget,
  send: () => Promise<Response>,
  allowed: number[],
): Promise<AttackOutcome & { response: Response; before: Snapshot; after: Snapshot }> {
  const outcome = await observe(target, send);
  check(allowed.includes(Number(outcome.status)), `answered ${outcome.status}, expected one of ${allowed.join('/')}`);
  check(!outcome.stateChanged, 'the request changed state');
  return outcome;
}

const envelope = (data: unknown, messageId = `${Math.floor(Math.random() * 1e15)}`): string =>
  JSON.stringify({
    message: { data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64'), messageId, publishTime: new Date().toISOString() },
    subscription: 'projects/threadlink-emulator/subscriptions/gmail-push',
  });

async function gmailPush(target: SecurityTarget, body: string, headers: Record<string, string> = {}, path = '/webhooks/gmail'): Promise<Response> {
  return target.send(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await target.pushToken()}`, ...headers },
    body,
  });
}

async function outlookSubscription(target: SecurityTarget, connectionId: string): Promise<{ id: string; clientState: string }> {
  const connection = await target.world.backend.primary.getConnection(connectionId);
  const id = connection?.subscription?.items[0]?.id;
  const emulated = target.world.microsoft.subscriptions().find((entry) => entry.id === id);
  check(emulated !== undefined && emulated.clientState !== undefined, `connection ${connectionId} has no live Graph subscription`);
  return { id: emulated!.id, clientState: emulated!.clientState! };
}

const graphPost =
  (target: SecurityTarget, value: unknown[], route = '') =>
  () =>
    target.send(`/webhooks/outlook${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value }) });

/** Messages synced into a connection so far (message.synced events naming it). */
const syncedInto = (target: SecurityTarget, connectionId: string): number =>
  target.eventCount('message.synced', (json) => json.includes(`"connectionId":"${connectionId}"`));

let deliveries = 0;
async function deliverGmail(target: SecurityTarget): Promise<void> {
  deliveries += 1;
  await target.world.google.deliver({ from: 'buyer@bigco.test', to: target.gmailEmail, subject: `Shared mailbox ${deliveries} – PRJ-1003`, text: 'hello' });
  await target.world.settle();
}

async function deliverOutlook(target: SecurityTarget): Promise<void> {
  deliveries += 1;
  await target.world.microsoft.deliver({
    from: 'buyer@bigco.test',
    to: target.outlookEmail,
    subject: `Shared mailbox ${deliveries} – PRJ-1004`,
    text: 'hello',
  });
  await target.world.settle();
}

/** An API call the attacker makes is refused with `code` and leaves every observable state as it was. */
async function expectRefused(target: SecurityTarget, code: string, attempt: () => Promise<unknown>): Promise<AttackOutcome> {
  const before = await target.snapshot();
  let refusedWith: string | undefined;
  try {
    await attempt();
  } catch (error) {
    refusedWith = (error as { code?: string }).code ?? String(error);
  }
  await target.world.settle();
  const after = await target.snapshot();
  check(refusedWith === code, refusedWith === undefined ? 'the call was carried out' : `refused with ${refusedWith}, expected ${code}`);
  const stateChanged = after.providerCalls !== before.providerCalls || after.synced !== before.synced || after.connections !== before.connections;
  check(!stateChanged, 'the refused call changed state');
  return { status: code, stateChanged };
}

/** Reads an async iterable to its end (an export only runs when it is read). */
async function drain(iterable: AsyncIterable<unknown>): Promise<void> {
  for await (const _record of iterable);
}

/**
 * Every attack, in the order run. Entries that disconnect something come last: they change the
 * deployment the others run against.
 */
export const ATTACKS: Attack[] = [
  // ── Parts 1–2: the connect flow and scopes ────────────────────────────────────────────────
  {
    name: 'a consent URL started in tenant A and completed in another browser (no connect cookie)',
    area: 'connect',
    expected: '400 OAUTH_STATE_INVALID before any code exchange, nothing connected',
    async run(target) {
      const { tl } = target.world.any();
      const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 'attacker-tenant', userId: 'attacker' });
      const callback = `/oauth/callback?state=${encodeURIComponent(state)}&code=victims-code`;
      const outcome = await expectNoEffect(target, () => target.send(callback, { method: 'GET', redirect: 'manual' }), [400]);
      return outcome;
    },
  },
  {
    name: "a host completing another tenant's connect state with its own session",
    area: 'connect',
    expected: 'OAUTH_STATE_INVALID, nothing connected',
    async run(target) {
      const { tl } = target.world.any();
      const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 'attacker-tenant', userId: 'attacker' });
      return expectRefused(target, 'OAUTH_STATE_INVALID', () =>
        tl.connect.complete({ code: 'victims-code', state }, { tenantId: target.world.tenantId, userId: 'someone-else' }),
      );
    },
  },
  {
    name: 'a cancelled consent (error=access_denied) replayed with a code',
    area: 'connect',
    expected: 'the cancel spends the state; the replay is refused with 400 and exchanges no code',
    async run(target) {
      const { tl } = target.world.any();
      const { state, cookie } = await tl.connect.start({ provider: 'gmail', tenantId: target.world.tenantId, userId: 'user-replay' });
      const headers = { cookie: `${cookie.name}=${cookie.value}` };
      const cancelled = await target.send(`/oauth/callback?state=${encodeURIComponent(state)}&error=access_denied`, {
        method: 'GET',
        headers,
        redirect: 'manual',
      });
      await cancelled.arrayBuffer();
      const replay = `/oauth/callback?state=${encodeURIComponent(state)}&code=late-code`;
      return expectNoEffect(target, () => target.send(replay, { method: 'GET', headers, redirect: 'manual' }), [400]);
    },
  },
  {
    name: 'connect.start with an off-site returnTo',
    area: 'connect',
    expected: 'INVALID_INPUT at start, no consent URL handed out',
    async run(target) {
      const { tl } = target.world.any();
      return expectRefused(target, 'INVALID_INPUT', () =>
        tl.connect.start({ provider: 'gmail', tenantId: target.world.tenantId, userId: 'user-x', returnTo: 'https://evil.test/phish' }),
      );
    },
  },
  {
    name: 'disconnect, health, health.all and export called without a tenant',
    area: 'scope',
    expected: 'SCOPE_REQUIRED for each, nothing purged or read',
    async run(target) {
      const { tl } = target.world.any();
      const id = target.gmail.id;
      // The types forbid these calls; a JavaScript host (or a cast) can still make them.
      const noScope = {} as never;
      await expectRefused(target, 'SCOPE_REQUIRED', () => tl.connections.disconnect(id, noScope));
      await expectRefused(target, 'SCOPE_REQUIRED', () => tl.health(id, noScope));
      await expectRefused(target, 'SCOPE_REQUIRED', () => tl.health.all(noScope));
      return expectRefused(target, 'SCOPE_REQUIRED', () => drain(tl.connections.export(id, { tenantId: target.world.tenantId } as never)));
    },
  },
  {
    name: 'another user of the tenant exporting, re-syncing, sharing or disconnecting a private mailbox',
    area: 'scope',
    expected: 'CONNECTION_NOT_FOUND for each (existence not revealed), nothing changed',
    async run(target) {
      const { tl } = target.world.any();
      const id = target.gmail.id;
      const colleague = { tenantId: target.world.tenantId, userId: 'user-colleague' };
      await expectRefused(target, 'CONNECTION_NOT_FOUND', () => drain(tl.connections.export(id, colleague)));
      await expectRefused(target, 'CONNECTION_NOT_FOUND', () => tl.connections.resync(id, colleague));
      await expectRefused(target, 'CONNECTION_NOT_FOUND', () => tl.connections.setShared(id, true, colleague));
      return expectRefused(target, 'CONNECTION_NOT_FOUND', () => tl.connections.disconnect(id, { ...colleague, purge: true }));
    },
  },
  {
    name: "another tenant's admin reading or purging a mailbox",
    area: 'scope',
    expected: 'CONNECTION_NOT_FOUND, nothing read or purged',
    async run(target) {
      const { tl } = target.world.any();
      const stranger = { tenantId: 'attacker-tenant', as: 'admin' as const };
      await expectRefused(target, 'CONNECTION_NOT_FOUND', () => tl.connections.get(target.outlook.id, stranger));
      return expectRefused(target, 'CONNECTION_NOT_FOUND', () => tl.connections.disconnect(target.outlook.id, { ...stranger, purge: true }));
    },
  },
  // ── Part 4: webhook hardening ─────────────────────────────────────────────────────────────
  {
    name: "a genuine Gmail push sent outside publicUrl's base path",
    area: 'webhook',
    expected: '404, nothing synced',
    async run(target) {
      const origin = new URL(target.world.publicUrl).origin;
      const token = await target.pushToken();
      return expectNoEffect(
        target,
        () =>
          fetch(`${origin}/webhooks/gmail`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: envelope({ emailAddress: target.gmailEmail, historyId: 1 }),
          }),
        [404],
      );
    },
  },
  {
    name: 'a Gmail push with a valid token but a non-JSON content type (text/plain, form)',
    area: 'webhook',
    expected: '415 UNSUPPORTED_MEDIA_TYPE, nothing synced',
    async run(target) {
      let last: AttackOutcome = { status: 0, stateChanged: false };
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'multipart/form-data; boundary=x']) {
        const outcome = await expectNoEffect(
          target,
          () => gmailPush(target, envelope({ emailAddress: target.gmailEmail, historyId: 1 }), { 'content-type': type }),
          [415],
        );
        const body = (await outcome.response.json()) as { error: { code: string } };
        check(body.error.code === 'UNSUPPORTED_MEDIA_TYPE', `answered ${body.error.code}`);
        last = outcome;
      }
      return last;
    },
  },
  {
    name: 'a Graph validation echo with a markup token',
    area: 'webhook',
    expected: '200 text/plain + nosniff, byte for byte',
    async run(target) {
      const token = '<script>alert(document.cookie)</script>';
      const outcome = await expectNoEffect(
        target,
        () => target.send(`/webhooks/outlook?validationToken=${encodeURIComponent(token)}`, { method: 'POST', body: '' }),
        [200],
      );
      check(outcome.response.headers.get('x-content-type-options') === 'nosniff', 'no X-Content-Type-Options: nosniff');
      check(/^text\/plain/.test(outcome.response.headers.get('content-type') ?? ''), 'not text/plain');
      check((await outcome.response.text()) === token, 'the echo differs from the token');
      return outcome;
    },
  },
  {
    name: 'a Graph validation echo with a token over 1,024 characters',
    area: 'webhook',
    expected: '400, nothing echoed',
    async run(target) {
      const token = `${'A'.repeat(1_025)}<svg/onload=alert(1)>`;
      const outcome = await expectNoEffect(
        target,
        () => target.send(`/webhooks/outlook?validationToken=${encodeURIComponent(token)}`, { method: 'POST', body: '' }),
        [400],
      );
      check(!(await outcome.response.text()).includes('<svg'), 'the token was echoed');
      return outcome;
    },
  },
  {
    name: 'Graph lifecycle events named __proto__, constructor, toString, hasOwnProperty, valueOf',
    area: 'webhook',
    expected: '202, ignored and logged: no subscription deleted or re-created',
    async run(target) {
      const subscription = await outlookSubscription(target, target.outlook.id);
      const logsBefore = target.world.logs.length;
      const outcome = await expectNoEffect(
        target,
        graphPost(
          target,
          ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'].map((lifecycleEvent) => ({
            subscriptionId: subscription.id,
            clientState: subscription.clientState,
            lifecycleEvent,
            subscriptionExpirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
            tenantId: target.world.microsoft.tenantId,
          })),
          '/lifecycle',
        ),
        [202],
      );
      check(
        target.world.logs.slice(logsBefore).some((line) => line.includes('outlook lifecycle event ignored')),
        'the unknown events were not logged',
      );
      check(
        target.world.microsoft.subscriptions().some((entry) => entry.id === subscription.id),
        'the subscription was deleted',
      );
      return outcome;
    },
  },
  {
    name: 'one Graph POST naming 1,000 unknown subscription ids',
    area: 'webhook',
    expected: '400 before any look-up (cap 100 distinct ids)',
    async run(target) {
      const value = Array.from({ length: 1_000 }, (_, index) => ({
        subscriptionId: `00000000-0000-0000-0000-${String(index).padStart(12, '0')}`,
        clientState: 'x',
        changeType: 'created',
        resource: 'Users/x/Messages/y',
      }));
      const outcome = await expectNoEffect(target, graphPost(target, value), [400]);
      check(
        outcome.after.storeCalls - outcome.before.storeCalls === 0,
        `${outcome.after.storeCalls - outcome.before.storeCalls} store calls for a refused batch`,
      );
      return outcome;
    },
  },
  {
    name: 'one Graph POST naming 100 unknown subscription ids',
    area: 'webhook',
    expected: '202, exactly one store query for the batch',
    async run(target) {
      const value = Array.from({ length: 100 }, (_, index) => ({
        subscriptionId: `11111111-0000-0000-0000-${String(index).padStart(12, '0')}`,
        clientState: 'x',
        changeType: 'created',
        resource: 'Users/x/Messages/y',
      }));
      const outcome = await expectNoEffect(target, graphPost(target, value), [202]);
      const queries = outcome.after.storeCalls - outcome.before.storeCalls;
      check(queries === 1, `${queries} store calls for one batch`);
      return outcome;
    },
  },
  {
    name: 'a second genuine Graph `missed` lifecycle event for a subscription the same day',
    area: 'webhook',
    expected: '202 each time, and each one triggers its resync',
    async run(target) {
      const subscription = await outlookSubscription(target, target.outlook.id);
      let last: AttackOutcome = { status: 0, stateChanged: false };
      for (let round = 1; round <= 2; round += 1) {
        const before = await target.snapshot();
        await target.world.microsoft.sendLifecycle(subscription.id, 'missed');
        await target.world.settle();
        const after = await target.snapshot();
        check(after.acceptedHints > before.acceptedHints, `missed #${round} was not accepted`);
        // A resync lists the mailbox again: Graph calls follow every accepted `missed`.
        check(after.providerCalls > before.providerCalls, `missed #${round} triggered no resync`);
        last = { status: 202, stateChanged: true };
      }
      return last;
    },
  },

  // ── Hostile webhooks (the earlier suite's, on every store) ───────────────────────────────
  {
    name: 'a Pub/Sub push signed by a key Google never published',
    area: 'hostile-webhook',
    expected: '401, nothing synced',
    async run(target) {
      const forged = await target.world.google.createJwt({}, { signWith: 'foreign' });
      return expectNoEffect(
        target,
        () => gmailPush(target, envelope({ emailAddress: target.gmailEmail, historyId: 1 }), { authorization: `Bearer ${forged}` }),
        [401],
      );
    },
  },
  {
    name: 'a Graph notification with a guessed clientState',
    area: 'hostile-webhook',
    expected: '401, nothing synced',
    async run(target) {
      const subscription = await outlookSubscription(target, target.outlook.id);
      return expectNoEffect(
        target,
        graphPost(target, [{ subscriptionId: subscription.id, clientState: 'guessed-secret', changeType: 'created', resource: 'Users/x/Messages/y' }]),
        [401],
      );
    },
  },
  {
    name: 'a replayed Pub/Sub push (same messageId)',
    area: 'hostile-webhook',
    expected: 'first acts, replays 2xx with no effect',
    async run(target) {
      const body = envelope({ emailAddress: target.gmailEmail, historyId: 1 }, `replayed-${Math.random()}`);
      const first = await observe(target, () => gmailPush(target, body));
      check(Number(first.status) < 300 && first.after.acceptedHints > first.before.acceptedHints, 'the first push was not accepted');
      return expectNoEffect(target, () => gmailPush(target, body), [200, 202, 204]);
    },
  },
  {
    name: 'an oversized webhook body (2 MiB)',
    area: 'hostile-webhook',
    expected: '413, nothing read further',
    async run(target) {
      return expectNoEffect(
        target,
        () => gmailPush(target, envelope({ emailAddress: target.gmailEmail, historyId: 1, padding: 'x'.repeat(2 * 1024 * 1024) })),
        [413],
      );
    },
  },
  {
    name: 'unknown providers and routes',
    area: 'hostile-webhook',
    expected: '404',
    async run(target) {
      await expectNoEffect(target, () => target.send('/webhooks/evilcorp', { method: 'POST', body: '{}' }), [404]);
      return expectNoEffect(target, () => target.send('/webhooks/outlook/evil', { method: 'POST', body: '{}' }), [404]);
    },
  },

  // ── Part 3: one address connected twice ──────────────────────────────────────────────────
  {
    name: 'one Pub/Sub push for a Gmail address connected in two tenants',
    area: 'shared-address',
    expected: '2xx, both connections sync the new mail',
    async run(target) {
      const firstBefore = syncedInto(target, target.gmail.id);
      const secondBefore = syncedInto(target, target.secondGmail.id);
      await deliverGmail(target);
      check(syncedInto(target, target.gmail.id) > firstBefore, 'the first tenant did not sync the pushed mail');
      check(syncedInto(target, target.secondGmail.id) > secondBefore, 'the second tenant did not sync the pushed mail');
      return { status: 'synced both', stateChanged: true };
    },
  },
  {
    name: "disconnecting one tenant's connection of a shared Gmail address",
    area: 'shared-address',
    expected: 'revoked: false (shared-grant), watch kept; the other keeps its grant and its push',
    async run(target) {
      const { tl } = target.world.any();
      const result: DisconnectResult = await tl.connections.disconnect(target.secondGmail.id, {
        purge: true,
        tenantId: target.secondGmail.tenantId,
        as: 'admin',
      });
      check(target.world.google.watchOf(target.gmailEmail) !== null, 'the shared watch was stopped');
      // The other connection's grant is intact: past its access token's life it still refreshes
      // and syncs what the surviving watch pushes.
      target.world.clock.advance(3_600_000);
      const before = syncedInto(target, target.gmail.id);
      await deliverGmail(target);
      check(syncedInto(target, target.gmail.id) > before, 'the remaining connection no longer syncs pushed mail');
      const remaining = await tl.connections.get(target.gmail.id, { tenantId: target.world.tenantId, as: 'admin' });
      check(remaining.status === 'live', `the remaining connection is ${remaining.status}`);
      // Said so in the result: the grant kept on purpose, the watch left to the other.
      check(
        result.revoked === false && result.revokeSkipped === 'shared-grant',
        `disconnect answered ${JSON.stringify({ revoked: result.revoked, revokeSkipped: result.revokeSkipped })}`,
      );
      check(result.unsubscribeSkipped === 'shared-watch', 'users.stop was not skipped');
      return { status: 'revokeSkipped: shared-grant', stateChanged: true };
    },
  },
  {
    name: "disconnecting one tenant's connection of a shared Outlook address",
    area: 'shared-address',
    expected: 'only its own Graph subscriptions deleted; the other keeps syncing',
    async run(target) {
      const { tl } = target.world.any();
      const own = (await target.world.backend.primary.getConnection(target.secondOutlook.id))?.subscription?.items.map((item) => item.id) ?? [];
      const others = (await target.world.backend.primary.getConnection(target.outlook.id))?.subscription?.items.map((item) => item.id) ?? [];
      check(own.length > 0 && others.length > 0 && own.every((id) => !others.includes(id)), 'the two connections do not hold separate subscriptions');
      const result = await tl.connections.disconnect(target.secondOutlook.id, { purge: true, tenantId: target.secondOutlook.tenantId, as: 'admin' });
      check(result.revokeSkipped === 'shared-grant' && result.unsubscribed, `disconnect answered ${JSON.stringify(result)}`);
      const live = new Set(target.world.microsoft.subscriptions().map((entry) => entry.id));
      check(
        own.every((id) => !live.has(id)),
        "the disconnected connection's subscriptions survive",
      );
      check(
        others.every((id) => live.has(id)),
        "the other connection's subscriptions were deleted",
      );
      const before = syncedInto(target, target.outlook.id);
      await deliverOutlook(target);
      check(syncedInto(target, target.outlook.id) > before, 'the remaining connection no longer syncs');
      return { status: 'own subscriptions only', stateChanged: true };
    },
  },
];
