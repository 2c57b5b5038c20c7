// A small subset of Gmail search (`q`), enough for back-fill windows and tests:
// after:/before: (epoch seconds or YYYY/MM/DD), newer_than:/older_than: (Nd, Nm, Ny),
// from:, to:, cc:, subject:, label:/in:, is:unread|read|starred|important,
// has:attachment, filename:, rfc822msgid:, and bare words (subject or text).
// support.google.com/mail/answer/7190
import { bodyText, headerValue } from './mime.js';
import type { StoredMessage } from './mailbox.js';

export type MessagePredicate = (message: StoredMessage) => boolean;

function tokenize(query: string): string[] {
  return query.match(/-?[a-zA-Z_]+:"[^"]*"|-?[a-zA-Z_]+:\S+|"[^"]*"|\S+/g) ?? [];
}

function parseDate(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const match = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  if (!match) return undefined;
  // Gmail interprets dates in the account's time zone; the emulator's accounts live in UTC.
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

function relativeMs(value: string): number | undefined {
  const match = /^(\d+)([dmy])$/.exec(value);
  if (!match) return undefined;
  const days = { d: 1, m: 30, y: 365 }[match[2] as 'd' | 'm' | 'y'];
  return Number(match[1]) * days * 86_400_000;
}

const unquote = (value: string): string => value.replace(/^"|"$/g, '').toLowerCase();

export function compileQuery(query: string, now: number): MessagePredicate {
  const predicates: MessagePredicate[] = [];
  for (const rawToken of tokenize(query)) {
    const negate = rawToken.startsWith('-');
    const token = negate ? rawToken.slice(1) : rawToken;
    const colon = token.indexOf(':');
    const operator = colon > 0 && !token.startsWith('"') ? token.slice(0, colon).toLowerCase() : '';
    const value = unquote(colon > 0 && operator ? token.slice(colon + 1) : token);
    const header =
      (name: string): MessagePredicate =>
      (message) =>
        (headerValue(message.headers, name) ?? '').toLowerCase().includes(value);
    let predicate: MessagePredicate;
    switch (operator) {
      case 'after': {
        const at = parseDate(value);
        predicate = (message) => at === undefined || message.internalDate >= at;
        break;
      }
      case 'before': {
        const at = parseDate(value);
        predicate = (message) => at === undefined || message.internalDate < at;
        break;
      }
      case 'newer_than': {
        const span = relativeMs(value);
        predicate = (message) => span === undefined || message.internalDate >= now - span;
        break;
      }
      case 'older_than': {
        const span = relativeMs(value);
        predicate = (message) => span === undefined || message.internalDate < now - span;
        break;
      }
      case 'from':
      case 'to':
      case 'cc':
      case 'subject':
        predicate = header(operator);
        break;
      case 'label':
      case 'in':
        predicate = (message) =>
          value === 'anywhere' || message.labelIds.some((label) => label.toLowerCase() === value.replace(/-/g, '_') || label.toLowerCase() === value);
        break;
      case 'is': {
        const wanted = { unread: 'UNREAD', starred: 'STARRED', important: 'IMPORTANT' }[value];
        predicate =
          value === 'read' ? (message) => !message.labelIds.includes('UNREAD') : (message) => wanted !== undefined && message.labelIds.includes(wanted);
        break;
      }
      case 'has':
        predicate = (message) => value !== 'attachment' || message.attachmentNames.length > 0;
        break;
      case 'filename':
        predicate = (message) => message.attachmentNames.some((name) => name.toLowerCase().includes(value));
        break;
      case 'rfc822msgid':
        predicate = (message) => message.messageIdHeader.toLowerCase().replace(/[<>]/g, '') === value.replace(/[<>]/g, '');
        break;
      default:
        predicate = (message) => {
          const { text, html } = bodyText(message.mime);
          return `${message.subject}\n${text}\n${html}`.toLowerCase().includes(value);
        };
    }
    predicates.push(negate ? (message) => !predicate(message) : predicate);
  }
  return (message) => predicates.every((predicate) => predicate(message));
}
