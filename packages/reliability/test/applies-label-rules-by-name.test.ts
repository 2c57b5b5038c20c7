// Label and folder rules by name (issue 18), through the real Gmail client against the emulator, on
// the memory store, PGlite and PostgreSQL: a connection's rule names labels as the user sees them
// ("hr", "Personal/Doctor"), is saved as the ids they name, purges what they hold and keeps new
// mail of theirs out — still after the label is renamed (a connection's rule follows the label,
// policy/labels.ts). An unknown name is refused with POLICY_INVALID. A tenant's rule (one for every
// mailbox) matches by name.
import { isThreadlinkError } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
import { connectedWorld } from '../src/fixture.js';
import { sqlKind, type StoreKind } from '../src/stores.js';

const kinds: StoreKind[] = ['memory', 'pglite', ...(sqlKind() === 'postgres' ? (['postgres'] as const) : [])];

describe.each(kinds)('label rules by name on %s', (storeKind) => {
  it('resolves names to labels at set time, keeps them out after a rename, refuses an unknown name', async () => {
    const labels = { hr: '', doctor: '', news: '' };
    const { world, gmail, gmailEmail } = await connectedWorld({
      storeKind,
      seed: 181,
      beforeConnect: async (world, { gmail: mailbox }) => {
        labels.hr = world.google.createLabel(mailbox, 'HR');
        labels.doctor = world.google.createLabel(mailbox, 'Personal/Doctor');
        labels.news = world.google.createLabel(mailbox, 'Newsletters');
      },
    });
    try {
      const tl = world.any().tl;
      const store = world.backend.primary;
      const target = { tenantId: world.tenantId, userId: gmail.userId, connectionId: gmail.id };
      const labelled = async (subject: string, label: string | null) => {
        const delivered = await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject, text: 'x' });
        if (label) world.google.modifyLabels(gmailEmail, delivered.id, [label], []);
        return delivered.id;
      };
      const payslip = await labelled('Payslip', labels.hr);
      const checkup = await labelled('Check-up', labels.doctor);
      const kept = await labelled('Order PRJ-1003', null);
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, payslip)).not.toBeNull();

      // An unknown name, with the directory known, is refused and nothing changes.
      const refused = await tl.policy.set({ labels: { exclude: ['hr', 'Holidays'] } }, target).then(
        () => null,
        (error: unknown) => (isThreadlinkError(error) ? { code: error.code, rule: error.details.rule, message: error.message } : error),
      );
      expect(refused).toMatchObject({ code: 'POLICY_INVALID', rule: 'labels.exclude.1' });
      expect((refused as { message: string }).message).toContain('Holidays');
      expect((await tl.policy.get(target)).connection?.labels.exclude).toEqual([]);

      // By name, any case, nested Gmail labels by their path: saved as the ids, purged at once.
      const set = await tl.policy.set({ labels: { exclude: ['hr', 'Personal/Doctor'] } }, target);
      expect(set.policy.labels.exclude).toEqual([labels.hr, labels.doctor]);
      expect(set.purged.messages).toBe(2);
      for (const id of [payslip, checkup]) expect(await store.getMessageByProviderId(gmail.id, id)).toBeNull();
      expect(await store.getMessageByProviderId(gmail.id, kept)).not.toBeNull();

      // Renamed in Gmail; the directory is read again (maintain's hourly refresh) and shows the new name.
      world.google.renameLabel(gmailEmail, labels.hr, 'People');
      world.clock.advance(2 * 60 * 60_000);
      await tl.maintain();
      await world.settle();
      const directory = await store.listLabels(world.tenantId, [gmail.id]);
      expect(directory.find((label) => label.id === labels.hr)?.name).toBe('People');
      // The rule followed the label: new mail in it stays out.
      const later = await labelled('Payslip, December', labels.hr);
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, later)).toBeNull();
      expect(world.events.filter((event) => event.name === 'message.synced' && event.json.includes(later))).toHaveLength(0);

      // A tenant rule names a label the same way in every mailbox: it matches by name.
      const newsletter = await labelled('Weekly digest', labels.news);
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, newsletter)).not.toBeNull();
      const tenantRule = await tl.policy.set({ labels: { exclude: ['newsletters'] } }, { tenantId: world.tenantId, as: 'admin' });
      expect(tenantRule.policy.labels.exclude).toEqual(['newsletters']);
      expect(await store.getMessageByProviderId(gmail.id, newsletter)).toBeNull();
      const nextIssue = await labelled('Weekly digest 2', labels.news);
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, nextIssue)).toBeNull();
      expect(await store.getMessageByProviderId(gmail.id, kept)).not.toBeNull();
    } finally {
      await world.close();
    }
  });
});
