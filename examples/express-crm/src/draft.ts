// "Draft a reply": the page's button calls a `draft(context) => text` function with the thread as
// threadlink hands it over for an assistant (tl.messages.draftContext: clean text, oldest first,
// within a budget, who wrote to whom) and puts what it returns into the reply box, where the user
// edits it and sends it. The default is a plain template so the example runs with no AI service.
// A host plugs in any language model by passing its own function to createApp, e.g.:
//
//   createApp(config, {
//     draft: async (context) => {
//       const response = await llm.generate({
//         system: 'Draft a short, friendly reply as the user (the "(us)" sender). Reply text only.',
//         prompt: context.text,  // the transcript, already cut to the budget the route asked for
//       });
//       return response.text;
//     },
//   });
//
// The context holds message content: hand it to the model and let it go. Do not log it or keep it
// (threadlink never does; the route answers with cache-control: no-store).
import type { DraftContext } from '@threadlink/core';

export type DraftReply = (context: DraftContext) => string | Promise<string>;

const firstName = (name: string | undefined, address: string): string => (name?.trim().split(/\s+/)[0] ?? '') || address.split('@')[0]!;

/** A template reply: greets the last person who wrote to us and leaves the user a place to write. */
export const templateDraft: DraftReply = (context) => {
  const lastInbound = [...context.messages].reverse().find((message) => message.direction === 'inbound');
  const recipient = lastInbound?.from ?? context.message.from;
  const greeting = recipient ? `Hi ${firstName(recipient.name, recipient.address)},` : 'Hello,';
  const subject = context.message.subject.replace(/^((re|fwd?|aw|wg)\s*:\s*)+/i, '').trim();
  const ours = [...context.messages].reverse().find((message) => message.direction === 'outbound')?.from;
  const signature = ours?.name ?? ours?.address ?? '';
  return [greeting, '', `Thanks for your message${subject ? ` about "${subject}"` : ''}.`, '', '', 'Best regards,', signature].join('\n').trimEnd();
};
