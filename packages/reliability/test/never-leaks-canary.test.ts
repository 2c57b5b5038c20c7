// The privacy canary across every path: a unique string placed in bodies (text, HTML, attachment
// content) — and therefore in Gmail's `snippet` and Graph's `bodyPreview` — travels through
// back-fill, push sync, body on demand, draft context (the whole thread, cleaned), reply, attachment
// download, compose (with a host stream over 3 MB: Gmail /upload, Graph upload session), forward, the ingestion policy (preview, purge, exclusion on arrival), failing
// calls, debug logs, events and exports, on the memory store, PGlite and PostgreSQL. Every physical table is dumped and
// grepped: the canary must reach the caller of body() and nowhere else.
import { randomBytes } from 'node:crypto';
import { isThreadlinkError } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
import { connectedWorld } from '../src/fixture.js';
import { canaryHits } from '../src/ground-truth.js';
import { sqlKind, type StoreKind } from '../src/stores.js';

const kinds: StoreKind[] = ['memory', 'pglite', ...(sqlKind() === 'postgres' ? (['postgres'] as const) : [])];

describe.each(kinds)('privacy canary on %s', (storeKind) => {
  /** A host's file as a web stream: `line` repeated to `size` bytes, 64 KiB a pull. */
  function repeatedStream(line: string, size: number): ReadableStream<Uint8Array> {
    const block = new TextEncoder().encode(line.repeat(Math.ceil((64 * 1024) / line.length)));
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) return controller.close();
        const chunk = block.subarray(0, Math.min(block.length, size - sent));
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
  }

  it('never persists, logs, emits or exports body content, whatever path the message takes', async () => {
    const canary = `CANARY${randomBytes(8).toString('hex')}`;
    const content = (where: string) => ({
      text: `Private text ${where} ${canary} end.`,
      html: `<p>Private <b>${canary}</b> ${where}</p><img src="https://tracker.test/${canary}.gif">`,
      attachments: [{ filename: 'Proposal PRJ-1003.pdf', content: `%PDF ${canary}`, contentType: 'application/pdf' }],
    });
    const fixture = await connectedWorld({
      storeKind,
      seed: 41,
      beforeConnect: async (world, mailboxes) => {
        await world.google.deliver({ from: 'buyer@bigco.test', to: mailboxes.gmail, subject: 'Back-filled – PRJ-1003', ...content('backfill') });
        await world.microsoft.deliver({ from: 'buyer@bigco.test', to: mailboxes.outlook, subject: 'Back-filled – PRJ-1003', ...content('backfill') });
      },
    });
    const { world, gmail, outlook, gmailEmail, outlookEmail } = fixture;
    try {
      const tl = world.any().tl;
      const scope = { tenantId: world.tenantId, as: 'admin' } as const;
      // Push sync.
      const pushedGmail = await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'Pushed – PRJ-1003', ...content('push') });
      const pushedOutlook = await world.microsoft.deliver({ from: 'buyer@bigco.test', to: outlookEmail, subject: 'Pushed – PRJ-1003', ...content('push') });
      await world.settle();
      // Positive control: the providers really offer the canary in their body-derived previews.
      expect(world.google.messages(gmailEmail).find((message) => message.id === pushedGmail.id)?.raw).toContain(canary);
      expect(world.microsoft.messages(outlookEmail).find((message) => message.immutableId === pushedOutlook.immutableId)?.body.content).toContain(canary);

      const store = world.backend.primary;
      const gmailMessage = (await store.getMessageByProviderId(gmail.id, pushedGmail.id))!;
      const outlookMessage = (await store.getMessageByProviderId(outlook.id, pushedOutlook.immutableId))!;
      expect(gmailMessage).not.toBeNull();
      expect(outlookMessage).not.toBeNull();

      // Body on demand and draft context: the caller gets the content (and only the caller).
      const delivered: unknown[] = [];
      for (const message of [gmailMessage, outlookMessage]) {
        const html = await tl.messages.body(message.id, { ...scope, format: 'html' });
        const text = await tl.messages.body(message.id, { ...scope, format: 'text' });
        const draft = await tl.messages.draftContext(message.id, scope);
        expect(`${html.html}${text.text}`).toContain(canary);
        // The draft context fetches the thread's bodies concurrently and cleans them: still the caller's only.
        expect(draft.text).toContain(canary);
        expect(draft.messages.some((entry) => entry.text.includes(canary))).toBe(true);
        delivered.push(html, text, draft);
        // Reply, carrying the canary out through the provider.
        await tl.messages.reply(message.id, { ...scope, text: `Reply quoting ${canary}` });
        // Attachment on demand: its bytes reach the caller's stream and nothing else.
        const listed = message.attachments.find((attachment) => attachment.id !== undefined);
        expect(listed).toBeDefined();
        const download = await tl.messages.attachment(message.id, listed!.id!, scope);
        const chunks: Uint8Array[] = [];
        for await (const chunk of download.stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
        const bytes = Buffer.concat(chunks).toString('latin1');
        expect(bytes).toContain(canary);
        delivered.push(bytes);
        // Compose from a record and forward (with the original attachment): the canary goes out only.
        await tl.messages.send({
          ...scope,
          connectionId: message.connectionId,
          to: [{ address: 'buyer@bigco.test' }],
          subject: 'Composed – PRJ-1003',
          html: `<p>Composed ${canary}</p>`,
          attachments: [
            { filename: 'notes.txt', content: new TextEncoder().encode(`notes ${canary}`), contentType: 'text/plain' },
            // Handed over as a stream, and over 3 MB: Gmail's /upload media and Graph's upload session carry it.
            { filename: 'survey.txt', content: repeatedStream(`survey ${canary}\n`, 4 * 1024 * 1024), contentType: 'text/plain' },
          ],
          links: [{ type: 'project', id: 'prj-1003' }],
        });
        await tl.messages.forward(message.id, { ...scope, to: [{ address: 'partner@other.test' }], text: `Forwarding ${canary}` });
      }
      await world.settle();

      // The ingestion policy path: a preview, a tightening that purges a message carrying the canary
      // in its body, and mail excluded on arrival. Reports carry ids only.
      const policyReports: unknown[] = [];
      const excludedSender = 'private@clinic.test';
      const doomed = await world.google.deliver({ from: excludedSender, to: gmailEmail, subject: 'Clinic', ...content('policy') });
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, doomed.id)).not.toBeNull();
      const policyTarget = { ...scope, connectionId: gmail.id };
      policyReports.push(await tl.policy.preview({ exclude: ['clinic.test'] }, policyTarget));
      policyReports.push(await tl.policy.set({ exclude: ['clinic.test'] }, policyTarget));
      await world.google.deliver({ from: excludedSender, to: gmailEmail, subject: 'Clinic again', ...content('policy-push') });
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, doomed.id)).toBeNull();
      policyReports.push(await tl.policy.get(policyTarget));

      // Failing paths: body fetches and syncs that error out must not echo content in errors.
      world.google.failNext('messages.get', { status: 500, count: 20 });
      world.microsoft.faults.errorRate = 1;
      const errors: unknown[] = [];
      for (const message of [gmailMessage, outlookMessage]) {
        try {
          await tl.messages.body(message.id, { ...scope, format: 'html' });
        } catch (error) {
          errors.push(
            isThreadlinkError(error) ? { ...error.toJSON(), details: error.details, cause: String((error as { cause?: unknown }).cause) } : String(error),
          );
        }
      }
      await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'During an outage', ...content('outage') });
      await world.microsoft.deliver({ from: 'buyer@bigco.test', to: outlookEmail, subject: 'During an outage', ...content('outage') });
      await world.settle();
      world.microsoft.faults.errorRate = 0;
      await world.any().tl.maintain();
      world.clock.advance(11 * 60_000);
      await world.any().tl.maintain();
      await world.settle();
      expect(errors.length).toBeGreaterThan(0);

      const exported: unknown[] = [];
      for (const connection of [gmail, outlook]) for await (const record of tl.connections.export(connection.id, scope)) exported.push(record);
      expect(exported.length).toBeGreaterThan(4);

      const dump = await world.backend.dump();
      const places = {
        ...Object.fromEntries(Object.entries(dump).map(([table, rows]) => [`table ${table}`, rows])),
        logs: world.logs.join('\n'),
        events: world.events.map((event) => event.json).join('\n'),
        errors,
        exports: exported,
        policy: policyReports,
      };
      expect(world.logs.some((line) => line.includes('"level":"debug"'))).toBe(true);
      expect(Object.keys(dump).length).toBeGreaterThanOrEqual(5);
      expect(canaryHits(canary, places)).toEqual([]);
      // Positive control for the grep itself.
      expect(canaryHits(canary, { delivered })).toEqual(['delivered']);
    } finally {
      await world.close();
    }
  });
});
