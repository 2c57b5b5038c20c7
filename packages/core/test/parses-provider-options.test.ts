import { parseProviderOptions } from '@threadlink/core/provider';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const Options = z.strictObject({
  clientId: z.string().min(1),
  retry: z.strictObject({ attempts: z.number().int().min(1).optional() }).default({}),
});

describe('parseProviderOptions', () => {
  it('returns the parsed options with defaults applied', () => {
    expect(parseProviderOptions(Options, { clientId: 'x' }, 'testProvider')).toEqual({ clientId: 'x', retry: {} });
  });

  it('names unknown options, top-level and nested, and every bad value, as CONFIG_INVALID', () => {
    const parse = () => parseProviderOptions(Options, { clientId: '', clientid: 'x', retry: { attempt: 3, attempts: 0 } }, 'testProvider');
    expect(parse).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    let message = '';
    try {
      parse();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^testProvider options are invalid: /);
    expect(message).toContain('unknown option clientid');
    expect(message).toContain('retry: unknown option attempt');
    expect(message).toMatch(/clientId: /);
    expect(message).toMatch(/retry\.attempts: /);
  });
});
