import { createThreadlink, generateSealingKey, type MetadataStore, type RecordResolver, type ThreadlinkConfig } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { scriptedMailbox, type ScriptedMailbox } from './scripted-provider.js';

const resolver: RecordResolver = {
  async contactsByEmail(_tenantId, addresses) {
    return addresses.includes('client@bigco.com') ? [{ type: 'client', id: 'c-bigco', label: 'BigCo', emails: ['client@bigco.com'] }] : [];
  },
  async projectsByReference(_tenantId, references) {
    return references
      .filter((reference) => reference === 'PRJ-1042')
      .map((reference) => ({ type: 'project', id: 'p-1042', label: reference, references: [reference] }));
  },
};

// One key for every harness in a test file: two engines on one store must open each other's tokens.
const sealingKey = { id: 'k1', key: generateSealingKey() };

/** A started threadlink serving one scripted mailbox, nothing connected (a second process on a shared store). */
export async function startedHarness(overrides: Partial<ThreadlinkConfig> = {}, mailbox: ScriptedMailbox = scriptedMailbox()) {
  const store: MetadataStore = overrides.store ?? memoryStore();
  const tl = createThreadlink({
    store,
    providers: [mailbox.provider],
    resolver,
    sealingKeys: [sealingKey],
    publicUrl: 'https://crm.example.test/threadlink',
    matching: { referencePatterns: [/\bPRJ-\d{4,}\b/] },
    maintenanceIntervalMs: 0,
    retryBackoff: { baseMs: 5, maxMs: 20 },
    ...overrides,
  });
  await tl.start();
  return { tl, store, mailbox };
}

/** A threadlink with one connected mailbox; `settle: false` returns before the connect's jobs (back-fill) ran. */
export async function connectedHarness(overrides: Partial<ThreadlinkConfig> = {}, mailbox: ScriptedMailbox = scriptedMailbox(), { settle = true } = {}) {
  const { tl, store } = await startedHarness(overrides, mailbox);
  const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
  const connection = await tl.connect.complete({ code: 'code-1', state }, { tenantId: 't1', userId: 'u1' });
  if (settle) await tl.idle();
  return { tl, store, mailbox, connection };
}
