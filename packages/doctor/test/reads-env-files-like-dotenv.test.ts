// The .env the doctor reads is the one the app is started with (dotenv, `node --env-file`), so it
// must read it the same way: quotes, comments, `export` prefixes, and a `#` that is part of a value.
import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../src/env-file.js';

describe('parseEnvFile', () => {
  it('reads plain, quoted, exported and commented lines as dotenv does', () => {
    const text = [
      '# threadlink',
      'THREADLINK_PUBLIC_URL=https://crm.acme.example/threadlink   # the tunnel',
      'export THREADLINK_SEALING_KEY="abc def"',
      "GOOGLE_CLIENT_SECRET='s#cret'",
      'GOOGLE_PUBSUB_TOPIC=projects/acme/topics/mail#1',
      '',
      'EMPTY=',
      'MULTI="line one',
      'line two"',
      'ESCAPED="a\\nb"',
      'not a variable line',
    ].join('\r\n');
    expect(parseEnvFile(text)).toEqual({
      THREADLINK_PUBLIC_URL: 'https://crm.acme.example/threadlink',
      THREADLINK_SEALING_KEY: 'abc def',
      GOOGLE_CLIENT_SECRET: 's#cret',
      GOOGLE_PUBSUB_TOPIC: 'projects/acme/topics/mail#1',
      EMPTY: '',
      MULTI: 'line one\nline two',
      ESCAPED: 'a\nb',
    });
  });
});
