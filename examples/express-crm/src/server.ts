// `pnpm demo`: starts the example. Demo mode (no credentials) runs the Gmail and Outlook
// emulators in-process; set the variables in README.md to talk to Google and Microsoft.
import { createApp } from './app.js';
import { type AppConfig, ConfigError, loadConfig } from './config.js';

let config: AppConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const app = await createApp(config);
const storage = config.storage.kind === 'pglite' ? `PGlite in ${config.storage.dataDir}` : config.storage.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'memory';
process.stdout.write(
  [
    '',
    `  threadlink CRM example (${config.mode} mode) — open ${app.url}`,
    config.mode === 'demo'
      ? `  Emulated mailboxes: Gmail ${app.demo?.mailboxes.gmail}, Outlook ${app.demo?.mailboxes.outlook}`
      : `  Webhooks and OAuth callback under ${config.publicUrl}/threadlink`,
    `  Storage: ${storage}`,
    '  Press Ctrl-C to stop.',
    '',
    '',
  ].join('\n'),
);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void app.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
