// `pnpm --filter @threadlink/example-web-standard start`: the Hono app on Node, configured by the
// variables the express-crm example, the README quick start and threadlink-doctor all read.
import { serve } from '@hono/node-server';
import { createThreadlink, type MailProvider } from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { outlookProvider } from '@threadlink/outlook';
import { pgliteStore, postgresStore } from '@threadlink/storage-postgres';
import { createApp } from './app.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`Set ${name} (threadlink-doctor --help lists every variable).\n`);
    process.exit(1);
  }
  return value;
}

const providers: MailProvider[] = [];
if (process.env.GOOGLE_CLIENT_ID) {
  providers.push(
    gmailProvider({
      clientId: env('GOOGLE_CLIENT_ID'),
      clientSecret: env('GOOGLE_CLIENT_SECRET'),
      pubsubTopic: env('GOOGLE_PUBSUB_TOPIC'),
      pushAudience: env('GOOGLE_PUSH_AUDIENCE'),
      pushServiceAccount: env('GOOGLE_PUSH_SERVICE_ACCOUNT'),
    }),
  );
}
if (process.env.MICROSOFT_CLIENT_ID) {
  providers.push(
    outlookProvider({ clientId: env('MICROSOFT_CLIENT_ID'), clientSecret: env('MICROSOFT_CLIENT_SECRET'), tenant: process.env.MICROSOFT_TENANT ?? 'common' }),
  );
}
if (providers.length === 0) env('GOOGLE_CLIENT_ID');

const tl = createThreadlink({
  store: process.env.DATABASE_URL
    ? postgresStore({ connectionString: process.env.DATABASE_URL })
    : pgliteStore({ dataDir: `${process.env.THREADLINK_DATA_DIR ?? '.threadlink-data'}/pglite` }),
  sealingKeys: [{ id: process.env.THREADLINK_SEALING_KEY_ID ?? 'primary', key: env('THREADLINK_SEALING_KEY') }],
  providers,
  publicUrl: env('THREADLINK_PUBLIC_URL'),
  // The CRM's records: this example knows none; see examples/express-crm for a resolver.
  resolver: { contactsByEmail: async () => [] },
  logger: 'console',
});
await tl.start();

// No sign-in in this example: one user owns it.
const app = createApp(tl, () => ({ tenantId: process.env.CRM_TENANT_ID ?? 'demo', userId: process.env.CRM_USER_ID ?? 'ana' }));
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? '127.0.0.1' }, (address) => {
  process.stdout.write(`threadlink (Hono) listening on http://${address.address}:${address.port}\n`);
});

const stop = (): void => {
  server.close(() => void tl.stop().then(() => process.exit(0)));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
