import { replyRecipients, type ReplyRecipientsInput } from '@threadlink/core/provider';
import { describe, expect, it } from 'vitest';

const ME = 'ana@acme.test';

function reply(original: Partial<ReplyRecipientsInput['original']>, draft: ReplyRecipientsInput['draft'] = {}): ReplyRecipientsInput {
  return { original: { from: null, to: [], cc: [], replyTo: [], ...original }, draft };
}

describe('replyRecipients', () => {
  it('answers the sender of someone else’s message, and only the sender without reply-all', () => {
    const input = reply({
      from: { address: 'client@bigco.test', name: 'Client' },
      to: [{ address: ME }, { address: 'bob@acme.test' }],
      cc: [{ address: 'carol@bigco.test' }],
    });
    expect(replyRecipients(input, ME)).toEqual({ to: [{ address: 'client@bigco.test', name: 'Client' }], cc: [] });
  });

  it('answers the recipients of the user’s own message, not the user', () => {
    const input = reply({
      from: { address: ME },
      to: [{ address: 'client@bigco.test' }, { address: 'dave@bigco.test' }],
      cc: [{ address: 'carol@bigco.test' }],
    });
    expect(replyRecipients(input, ME)).toEqual({ to: [{ address: 'client@bigco.test' }, { address: 'dave@bigco.test' }], cc: [] });
    // Reply-all on one's own message: its To are already the primary recipients, its Cc follow.
    expect(replyRecipients({ ...input, draft: { replyAll: true } }, ME)).toEqual({
      to: [{ address: 'client@bigco.test' }, { address: 'dave@bigco.test' }],
      cc: [{ address: 'carol@bigco.test' }],
    });
  });

  it('lets Reply-To win over the sender', () => {
    const input = reply({ from: { address: 'noreply@bigco.test' }, replyTo: [{ address: 'support@bigco.test' }], to: [{ address: ME }] });
    expect(replyRecipients(input, ME)).toEqual({ to: [{ address: 'support@bigco.test' }], cc: [] });
  });

  it('on reply-all copies everyone else once, never the user, and adds the draft’s Cc last', () => {
    const input = reply(
      {
        from: { address: 'client@bigco.test' },
        to: [{ address: ME }, { address: 'bob@acme.test' }, { address: 'client@bigco.test' }],
        cc: [{ address: 'bob@acme.test' }, { address: 'carol@bigco.test' }],
      },
      { replyAll: true, cc: ['carol@bigco.test', 'erin@acme.test', ME] },
    );
    expect(replyRecipients(input, ME)).toEqual({
      to: [{ address: 'client@bigco.test' }],
      cc: [{ address: 'bob@acme.test' }, { address: 'carol@bigco.test' }, { address: 'erin@acme.test' }],
    });
  });

  it('compares addresses case-insensitively, the account’s own included', () => {
    const input = reply(
      {
        from: { address: 'Ana@Acme.test' },
        to: [{ address: 'Client@BigCo.test' }, { address: 'client@bigco.test' }],
        cc: [{ address: 'ANA@ACME.TEST' }, { address: 'CLIENT@bigco.test' }],
      },
      { replyAll: true },
    );
    expect(replyRecipients(input, 'ana@ACME.test')).toEqual({ to: [{ address: 'Client@BigCo.test' }], cc: [] });
  });

  it('finds no one when the original names no one but the user', () => {
    expect(replyRecipients(reply({ from: { address: ME }, to: [{ address: ME }] }, { replyAll: true }), ME)).toEqual({ to: [], cc: [] });
  });
});
