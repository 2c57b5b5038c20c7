import { consoleJsonLogger, redact } from '../src/logger.js';
import { describe, expect, it } from 'vitest';

describe('logger', () => {
  it('masks tokens and drops content keys, recursively', () => {
    const out = redact({
      accessToken: 'ya29.secret',
      nested: { refresh_token: 'r', subject: 'Quarterly numbers', body: 'canary' },
      header: 'Bearer abc.def.ghi',
      list: [{ clientState: 'shh' }],
    });
    const text = JSON.stringify(out);
    expect(text).not.toMatch(/ya29|canary|Quarterly|abc\.def|shh/);
  });

  it('writes one redacted JSON object per line at or above its level', () => {
    const lines: string[] = [];
    const logger = consoleJsonLogger({ level: 'info', write: (line) => lines.push(line) });
    logger.debug('hidden');
    logger.info('sync done', { connectionId: 'c1', token: 'secret-token' });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: 'info', msg: 'sync done', connectionId: 'c1', token: '[redacted]' });
  });
});
