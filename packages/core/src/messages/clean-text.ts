// One message body as the text a reader (or a language model) needs: only what this message
// added. Quoted history and signatures go through email-reply-parser (the maintained port of
// GitHub's reply parser: "On … wrote:" / Outlook "From: … Sent:" headers, `>` quotes, `--`
// signatures, "Sent from my iPhone", closing salutations). HTML is turned into text by
// html-to-text, which builds a DOM and emits text only — scripts, styles and images never reach
// the output — after the quote containers mail clients mark (Gmail's `.gmail_quote`, Outlook's
// `#divRplyFwdMsg` / `#appendonsend`, Apple's and Thunderbird's `blockquote[type=cite]`) are dropped,
// since the plain-text heuristics cannot see those once the markup is gone.
import EmailReplyParser from 'email-reply-parser';
import { convert } from 'html-to-text';
import type { MessageBody } from '../domain/schemas.js';

const QUOTE_CONTAINERS = [
  '.gmail_quote',
  '.gmail_signature',
  'blockquote',
  '#divRplyFwdMsg',
  '#appendonsend',
  '#Signature',
  '.moz-cite-prefix',
  '.moz-signature',
  '.yahoo_quoted',
  'div[data-smartmail=gmail_signature]',
];

const HTML_TO_TEXT = {
  wordwrap: false as const,
  selectors: [
    ...QUOTE_CONTAINERS.map((selector) => ({ selector, format: 'skip' })),
    { selector: 'img', format: 'skip' },
    // Link targets are noise for a reader and can carry tracking ids; keep the anchor text.
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'hr', format: 'skip' },
  ],
};

/** Everything from an Outlook-style separator on is the forwarded or quoted original. */
const OUTLOOK_SEPARATOR = /^\s*(-{2,}\s*Original Message\s*-{2,}|_{10,})\s*$/im;

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
