// Environment parsing: demo by default, real mode only when a provider is fully configured.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const GOOGLE = {
  GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'secret',
  GOOGLE_PUBSUB_TOPIC: 'projects/acme/topics/gmail',
  GOOGLE_PUSH_AUDIENCE: 'https://crm.acme.example/threadlink/webhooks/gmail',
  GOOGLE_PUSH_SERVICE_ACCOUNT: 'push@acme.iam.gserviceaccount.com',
};
const REAL = { THREADLINK_PUBLIC_URL: 'https://crm.acme.example/threadlink', THREADLINK_SEALING_KEY: 'x'.repeat(43) };

describe('loadConfig', () => {
  it('defaults to demo mode on PGlite in .threadlink-data, port 3000 on loopback', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ mode: 'demo', host: '127.0.0.1', port: 3000, tenantId: 'demo', userId: 'ana', demo: { seedHistory: true } });
    expect(config.storage).toEqual({ kind: 'pglite', dataDir: expect.stringMatching(/examples\/express-crm\/\.threadlink-data\/pglite$/) });
    expect(config.sealingKeys).toBeUndefined();
  });

  it('uses PostgreSQL when DATABASE_URL is set and treats empty variables as unset', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://localhost/crm', PORT: '', GOOGLE_CLIENT_ID: '' });
    expect(config.storage).toEqual({ kind: 'postgres', connectionString: 'postgres://localhost/crm' });
    expect(config.mode).toBe('demo');
    expect(config.port).toBe(3000);
  });

  it('switches to real mode with Google settings and keeps older sealing keys for rotation', () => {
    const config = loadConfig({ ...GOOGLE, ...REAL, THREADLINK_SEALING_KEY_ID: '2026-11', THREADLINK_PREVIOUS_SEALING_KEYS: '2026-05:old-key' });
    expect(config.mode).toBe('real');
    expect(config.google).toEqual({
      clientId: GOOGLE.GOOGLE_CLIENT_ID,
      clientSecret: 'secret',
      pubsubTopic: GOOGLE.GOOGLE_PUBSUB_TOPIC,
      pushAudience: GOOGLE.GOOGLE_PUSH_AUDIENCE,
      pushServiceAccount: GOOGLE.GOOGLE_PUSH_SERVICE_ACCOUNT,
    });
    expect(config.microsoft).toBeUndefined();
    expect(config.sealingKeys).toEqual([
      { id: '2026-11', key: REAL.THREADLINK_SEALING_KEY },
      { id: '2026-05', key: 'old-key' },
    ]);
  });

  it('names every missing setting of a half-configured real mode', () => {
    expect(() => loadConfig({ GOOGLE_CLIENT_ID: 'id', MICROSOFT_CLIENT_ID: 'id' })).toThrow(ConfigError);
    try {
      loadConfig({ GOOGLE_CLIENT_ID: 'id', MICROSOFT_CLIENT_ID: 'id' });
    } catch (error) {
      const message = (error as Error).message;
      for (const name of [
        'GOOGLE_CLIENT_SECRET',
        'GOOGLE_PUBSUB_TOPIC',
        'GOOGLE_PUSH_AUDIENCE',
        'GOOGLE_PUSH_SERVICE_ACCOUNT',
        'MICROSOFT_CLIENT_SECRET',
        'THREADLINK_PUBLIC_URL',
        'THREADLINK_SEALING_KEY',
      ]) {
        expect(message).toContain(name);
      }
    }
  });

  it('refuses a plain-http public URL in real mode', () => {
    expect(() =>
      loadConfig({ MICROSOFT_CLIENT_ID: 'id', MICROSOFT_CLIENT_SECRET: 's', ...REAL, THREADLINK_PUBLIC_URL: 'http://crm.acme.example/threadlink' }),
    ).toThrow(/https/);
  });

  it('rejects a malformed port', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
  });

  it('reads THREADLINK_PUBLIC_URL as the doctor does, and still takes the old PUBLIC_URL with a warning', () => {
    const microsoft = { MICROSOFT_CLIENT_ID: 'id', MICROSOFT_CLIENT_SECRET: 's', THREADLINK_SEALING_KEY: REAL.THREADLINK_SEALING_KEY };
    expect(loadConfig({ ...microsoft, THREADLINK_PUBLIC_URL: 'https://crm.acme.example/threadlink/' })).toMatchObject({
      publicUrl: 'https://crm.acme.example',
      warnings: [],
    });
    expect(loadConfig({ ...microsoft, THREADLINK_PUBLIC_URL: 'https://crm.acme.example' }).publicUrl).toBe('https://crm.acme.example');
    expect(() => loadConfig({ ...microsoft, THREADLINK_PUBLIC_URL: 'https://crm.acme.example/mail' })).toThrow('THREADLINK_PUBLIC_URL must end in /threadlink');
    expect(loadConfig({ ...microsoft, PUBLIC_URL: 'https://crm.acme.example/' })).toMatchObject({
      publicUrl: 'https://crm.acme.example',
      warnings: ['PUBLIC_URL is deprecated: set THREADLINK_PUBLIC_URL=https://crm.acme.example/threadlink instead (the name the doctor reads too).'],
    });
  });
});
