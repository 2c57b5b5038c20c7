// The page never shows a raw error code: every code threadlink can raise, and every code this
// example's API and OAuth callback send, has a sentence a CRM user understands. A new code in
// core without one fails here, before a user meets "CURSOR_CONFLICT" on screen.
import { ERROR_CODES } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
// @ts-expect-error — the page's plain ES module has no type declarations; the test reads it as the browser does.
import { PLAIN_ERRORS, plainError } from '../public/errors.js';

type Plain = { code: string; title: string; sentence: string; action: string | null };
const explain = plainError as (code: string, context?: { provider?: string; account?: string }) => Plain;
const table = PLAIN_ERRORS as Record<string, { title: string; sentence: string; action?: string }>;

describe('plain-language errors on the page', () => {
  it('has a sentence for every threadlink error code', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !(code in table));
    expect(missing).toEqual([]);
  });

  it("has a sentence for the example API's own codes and the OAuth outcomes the page meets", () => {
    for (const code of [
      'RECORD_NOT_FOUND',
      'PROVIDER_NOT_CONFIGURED',
      'UNSUPPORTED_MEDIA_TYPE',
      'NOT_DEMO',
      'FORBIDDEN',
      'NETWORK',
      'access_denied',
      'needs_reauth',
      'ACCOUNT_MISMATCH',
    ]) {
      expect(table[code], code).toBeDefined();
    }
  });

  it('writes sentences, not codes, and offers the fix for the states a user can fix', () => {
    for (const [code, entry] of Object.entries(table)) {
      expect(entry.title, code).not.toMatch(/[A-Z]{2,}_[A-Z]/);
      expect(entry.sentence, code).toMatch(/^[A-Z{].*\.$/s);
    }
    expect(explain('OAUTH_FAILED', { provider: 'Outlook' })).toMatchObject({ title: 'The mailbox was not connected', action: 'connect' });
    expect(explain('OAUTH_FAILED', { provider: 'Outlook' }).sentence).toContain('Outlook sign-in page');
    expect(explain('AUTH_REVOKED', { provider: 'Gmail', account: 'ana@acme.example' })).toMatchObject({
      title: 'Gmail needs you to sign in again',
      action: 'reconnect',
    });
    expect(explain('SEND_UNCONFIRMED').sentence).toContain('Sent folder');
    expect(explain('SEND_UNCONFIRMED').action).toBeNull();
    expect(explain('OAUTH_STATE_INVALID').action).toBe('connect');
    expect(explain('RATE_LIMITED', { provider: 'Gmail' }).title).toBe('Gmail asks us to slow down');
  });

  it('fills an unknown provider with words and falls back to a sentence for an unknown code', () => {
    expect(explain('PROVIDER_UNAVAILABLE').title).toBe('The mail service is not answering');
    expect(explain('HTTP_502').title).toBe('Something went wrong on our side');
    expect(explain('SOMETHING_NEW')).toMatchObject({ title: 'Something went wrong', action: 'retry' });
  });
});
