// `pnpm emulators`: starts the Gmail/Pub/Sub and Graph emulators so a developer can point a
// real app at them. Prints the provider options as JSON and stays up until Ctrl-C.
import { startGmailEmulator } from './gmail/index.js';
import { startGraphEmulator } from './graph/index.js';

async function main(): Promise<void> {
  const pushEndpoint = process.env.THREADLINK_PUSH_ENDPOINT;
  const google = await startGmailEmulator({ ...(process.env.GMAIL_EMULATOR_PORT ? { port: Number(process.env.GMAIL_EMULATOR_PORT) } : {}) });
  const microsoft = await startGraphEmulator();
  if (pushEndpoint) google.setPushEndpoint({ endpoint: pushEndpoint });
  for (const mailbox of (process.env.EMULATOR_MAILBOXES ?? 'ana@acme.example').split(',')) {
    google.addMailbox({ email: mailbox.trim() });
    microsoft.addMailbox({ email: mailbox.trim() });
  }
  process.stdout.write(
    `${JSON.stringify({ gmail: { url: google.url, providerOptions: google.providerOptions }, outlook: { url: microsoft.url, identityUrl: microsoft.identityUrl, providerOptions: { ...microsoft.providerOptions, caCertificate: '(PEM, see below)' } } }, null, 2)}\n`,
  );
  process.stdout.write(`\nOutlook emulator CA certificate:\n${microsoft.providerOptions.caCertificate}\n`);
  process.stdout.write('Emulators running on 127.0.0.1. Press Ctrl-C to stop.\n');
  const stop = async (): Promise<void> => {
    await Promise.all([google.close(), microsoft.close()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
