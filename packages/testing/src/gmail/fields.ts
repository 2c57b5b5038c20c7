// Google "partial response" (`fields=` system parameter):
// `a,b/c,d(e,f/g),*` — commas separate selections, `/` walks into a field,
// `(…)` selects several sub-fields, `*` takes everything at one level, and a
// selection applies to every element of an array. Google validates the mask
// against the response schema and answers 400 for an unknown field, so a typo
// in an adapter's mask fails here as it would in production.
// developers.google.com/gmail/api/guides/performance#partial-response

/** A response schema: each key is a field; `true` is a leaf, an object a message type. */
export interface FieldSchema {
  [field: string]: FieldSchema | true;
}

/** `null` selects a whole field; a map selects some of its sub-fields. */
export type FieldMask = Map<string, FieldMask | null>;

export class FieldMaskError extends Error {
  constructor(readonly selection: string) {
    super(`Invalid field selection ${selection}`);
  }
}

function merge(target: FieldMask, key: string, value: FieldMask | null): void {
  if (!target.has(key)) {
    target.set(key, value);
    return;
  }
  const existing = target.get(key);
  if (existing === null || existing === undefined) return; // already whole
  if (value === null) {
    target.set(key, null);
    return;
  }
  for (const [childKey, childValue] of value) merge(existing, childKey, childValue);
}

export function parseFieldMask(text: string): FieldMask {
  let position = 0;
  const source = text.replace(/\s+/g, '');

  function parseList(): FieldMask {
    const mask: FieldMask = new Map();
    for (;;) {
      parseItem(mask);
      if (source[position] === ',') {
        position++;
        continue;
      }
      return mask;
    }
  }

  function parseName(): string {
    const start = position;
    while (position < source.length && /[A-Za-z0-9_*@.-]/.test(source[position] ?? '')) position++;
    if (position === start) throw new FieldMaskError(source.slice(start) || text);
    return source.slice(start, position);
  }

  function parseItem(into: FieldMask): void {
    const path = [parseName()];
    while (source[position] === '/') {
      position++;
      path.push(parseName());
    }
    let leaf: FieldMask | null = null;
    if (source[position] === '(') {
      position++;
      leaf = parseList();
      if (source[position] !== ')') throw new FieldMaskError(text);
      position++;
    }
    let value: FieldMask | null = leaf;
    for (let index = path.length - 1; index >= 1; index--) value = new Map([[path[index] ?? '', value]]);
    merge(into, path[0] ?? '', value);
  }

  const mask = parseList();
  if (position !== source.length) throw new FieldMaskError(source.slice(position));
  return mask;
}

/** Throws FieldMaskError for a selection the schema does not have. */
export function validateFieldMask(mask: FieldMask, schema: FieldSchema, prefix = ''): void {
  for (const [key, child] of mask) {
    if (key === '*') continue;
    const fieldSchema = schema[key];
    if (fieldSchema === undefined) throw new FieldMaskError(`${prefix}${key}`);
    if (child === null) continue;
    if (fieldSchema === true) throw new FieldMaskError(`${prefix}${key}/${[...child.keys()][0] ?? ''}`);
    validateFieldMask(child, fieldSchema, `${prefix}${key}/`);
  }
}

export function applyFieldMask(value: unknown, mask: FieldMask): unknown {
  if (Array.isArray(value)) return value.map((item) => applyFieldMask(item, mask));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const wildcard = mask.get('*');
  const result: Record<string, unknown> = {};
  for (const [key, fieldValue] of Object.entries(source)) {
    const selected = mask.has(key) ? mask.get(key) : wildcard !== undefined ? wildcard : undefined;
    if (selected === undefined) continue;
    const masked = selected === null ? fieldValue : applyFieldMask(fieldValue, selected);
    // Google omits objects that end up empty after masking.
    if (masked !== null && typeof masked === 'object' && !Array.isArray(masked) && Object.keys(masked).length === 0) continue;
    result[key] = masked;
  }
  return result;
}

// ---- Gmail v1 response schemas (discovery/gmail-v1.json) ----

const header: FieldSchema = { name: true, value: true };
const partBody: FieldSchema = { attachmentId: true, size: true, data: true };
const messagePart: FieldSchema = { partId: true, mimeType: true, filename: true, headers: header, body: partBody };
messagePart['parts'] = messagePart;

const messageSchema: FieldSchema = {
  id: true,
  threadId: true,
  labelIds: true,
  snippet: true,
  historyId: true,
  internalDate: true,
  payload: messagePart,
  sizeEstimate: true,
  raw: true,
  classificationLabelValues: { labelId: true, fields: { fieldId: true, selection: true, integer: true } },
};

const labelSchema: FieldSchema = {
  id: true,
  name: true,
  messageListVisibility: true,
  labelListVisibility: true,
  type: true,
  messagesTotal: true,
  messagesUnread: true,
  threadsTotal: true,
  threadsUnread: true,
  color: { textColor: true, backgroundColor: true },
};

const historySchema: FieldSchema = {
  id: true,
  messages: messageSchema,
  messagesAdded: { message: messageSchema },
  messagesDeleted: { message: messageSchema },
  labelsAdded: { message: messageSchema, labelIds: true },
  labelsRemoved: { message: messageSchema, labelIds: true },
};

const threadSchema: FieldSchema = { id: true, snippet: true, historyId: true, messages: messageSchema };

export const schemas = {
  message: messageSchema,
  messagePartBody: partBody,
  thread: threadSchema,
  label: labelSchema,
  profile: { emailAddress: true, messagesTotal: true, threadsTotal: true, historyId: true } satisfies FieldSchema,
  watch: { historyId: true, expiration: true } satisfies FieldSchema,
  listMessages: { messages: messageSchema, nextPageToken: true, resultSizeEstimate: true } satisfies FieldSchema,
  listThreads: { threads: threadSchema, nextPageToken: true, resultSizeEstimate: true } satisfies FieldSchema,
  listHistory: { history: historySchema, nextPageToken: true, historyId: true } satisfies FieldSchema,
  listLabels: { labels: labelSchema } satisfies FieldSchema,
};
