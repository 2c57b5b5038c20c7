// One message body as the text a reader (or a language model) needs: only what this message
// added. Quoted history and signatures go through email-reply-parser (the maintained port of
// GitHub's reply parser: "On … wrote:" and Outlook "From: … Sent:" headers, `>` quotes, `--`
// signatures, "Sent from my iPhone", closing salutations). The text part is preferred: Gmail's
// carries the `>` quotes and Graph renders its own text from the HTML. HTML alone is turned into
// text by html-to-text, which builds a DOM and emits text only (scripts, styles and images never
// reach the output). The HTML it sees is already sanitised (body.ts), which strips the class and
// id marks clients put on quotes (`.gmail_quote`, `#divRplyFwdMsg`), so what is left to go on is
// structure: `<blockquote>` is dropped and `<hr>` (Outlook's reply separator) becomes a rule
// everything after which is the quoted original.
import EmailReplyParser from 'email-reply-parser';
import { convert } from 'html-to-text';
import type { MessageBody } from '../domain/schemas.js';

const HORIZONTAL_RULE = '_'.repeat(32);

const HTML_TO_TEXT = {
  wordwrap: false as const,
  selectors: [
    { selector: 'blockquote', format: 'skip' },
    { selector: 'img', format: 'skip' },
    // Link targets are noise for a reader and can carry tracking ids; keep the anchor text.
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'hr', format: 'horizontalLine', options: { length: HORIZONTAL_RULE.length } },
  ],
};

/** Everything from an Outlook-style separator on is the forwarded or quoted original. */
const OUTLOOK_SEPARATOR = /^\s*(-{2,}\s*Original Message\s*-{2,}|_{10,}|-{10,})\s*$/im;

/** The text this message added: the text part when there is one, else its HTML as text; quotes and signature removed. */
export function cleanMessageText(body: Pick<MessageBody, 'html' | 'text'>): string {
  const source = body.text !== null && body.text.trim() !== '' ? body.text : body.html !== null ? convert(body.html, HTML_TO_TEXT) : '';
  const normalised = source.replace(/\r\n?/g, '\n');
  const separator = OUTLOOK_SEPARATOR.exec(normalised);
  const beforeSeparator = separator ? normalised.slice(0, separator.index) : normalised;
  const visible = new EmailReplyParser().read(beforeSeparator).getVisibleText();
  return visible
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
