// Webhook intake CPU per Gmail push, in one process: tl.handler called directly (no HTTP), the engine
// not started so pushes coalesce into one waiting job: verification, parsing, look-up, claim, enqueue.
// One token for every push, as Pub/Sub reuses one. A diagnostic for A/B runs, not a scenario:
//   pnpm tsx --conditions=source bench/intake-cpu.ts [pushes]
import { createMemoryResolver, createThreadlink, generateSealingKey } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { startGmailEmulator } from '@threadlink/testing';
import { gmailProvider } from '@threadlink/gmail';

const N = Number(process.argv[2] ?? 3000);
const AUDIENCE = 'https://bench.test/threadlink/webhooks/gmail';
const google = await startGmailEmulator({ notificationIntervalMs: 0 });
google.setPushEndpoint({ endpoint: 'http://127.0.0.1:9/x', audience: AUDIENCE });
const publicUrl = 'https://bench.test/threadlink';
const tl = createThreadlink({
  store: memoryStore(),
  providers: [gmailProvider({ ...google.providerOptions, pushAudience: AUDIENCE })],
  resolver: createMemoryResolver([]),
  sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
  publicUrl,
  maintenanceIntervalMs: 0,
});
const email = 'ana@acme.example';
google.addMailbox({ email });
const { url } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: email });
await tl.connect.complete(new URL(await google.authorize(url, { email })), { tenantId: 't1', userId: 'u1' });
const token = await google.createJwt();
const data = Buffer.from(JSON.stringify({ emailAddress: email, historyId: 5 })).toString('base64');
let id = 0;
const push = async () => {
  id += 1;
  const body = JSON.stringify({ message: { data, messageId: String(id), publishTime: new Date().toISOString() }, subscription: 'projects/p/subscriptions/s' });
  const response = await tl.handler(
    new Request(`${publicUrl}/webhooks/gmail`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }),
  );
  if (response.status >= 300) throw new Error(`push answered ${response.status}`);
};
for (let i = 0; i < 300; i++) await push();
const results: number[] = [];
for (let round = 0; round < 5; round++) {
  const cpu = process.cpuUsage();
  for (let i = 0; i < N / 5; i++) await push();
  const used = process.cpuUsage(cpu);
  results.push((used.user + used.system) / (N / 5));
}
const sorted = [...results].sort((a, b) => a - b);
console.log(JSON.stringify({ intakeCpuUsPerPush: Math.round(sorted[2]!), rounds: results.map(Math.round) }));
await google.close();
process.exit(0);
