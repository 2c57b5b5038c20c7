// OData plumbing shared by the Graph handlers: the error envelope, `Prefer`
// preferences, `$select`, a small `$filter` parser and path normalisation.
import type { PublicError } from '@microsoft/microsoft-graph-types';
import type { EmulatorResponse } from '../common/server.js';

/** The OData control annotations a Graph entity may carry (learn.microsoft.com/graph/query-parameters). */
interface ODataAnnotations {
  '@odata.context'?: string;
  '@odata.etag'?: string;
  '@odata.type'?: string;
  '@odata.mediaContentType'?: string;
}

/**
 * An entity as the emulator sends it: the generated Graph type (`@microsoft/microsoft-graph-types`)
 * plus annotations, so a field the real resource does not have fails the type-check.
 */
export type GraphJson<T> = T & ODataAnnotations;

/** A collection page (lists, delta pages). */
export interface GraphPage<T> {
  '@odata.context': string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  value: T[];
}

/**
 * Graph's error body, {"error":{"code","message","innerError"}} (learn.microsoft.com/graph/errors):
 * `code` and `message` as in the generated PublicError, always present; `innerError` carries the
 * request's date and ids, and for throttling the code and status again.
 */
export interface GraphErrorBody {
  error: {
    code: NonNullable<PublicError['code']>;
    message: NonNullable<PublicError['message']>;
    innerError?: { date?: string; 'request-id'?: string; 'client-request-id'?: string; code?: string; message?: string; status?: string };
  };
}

/** The content type Graph answers JSON with. */
const GRAPH_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Graph's error envelope: {"error":{"code","message","innerError":{…}}} (learn.microsoft.com/graph/errors). */
export function graphError(status: number, code: string, message: string, headers: Record<string, string> = {}): EmulatorResponse {
  const body: GraphErrorBody = { error: { code, message } };
  return { status, headers: { 'content-type': GRAPH_JSON, ...headers }, body };
}

/**
 * Graph's 400 for a `$select` naming a property the resource does not have (the emulator knows the
 * properties it models: one it does not is refused too, loudly, rather than silently left out).
 */
export function unknownSelected(select: readonly string[] | undefined, known: readonly string[], type: string): EmulatorResponse | undefined {
  const lower = new Set(known.map((property) => property.toLowerCase()));
  const unknown = select?.find((property) => !lower.has(property.toLowerCase()));
  if (unknown === undefined) return undefined;
  return graphError(400, 'RequestBroker--ParseUri', `Could not find a property named '${unknown}' on type 'microsoft.graph.${type}'.`);
}

/** A JSON answer: one typed entity or a page of them (callers build the body with the generated types). */
export function graphJson(status: number, body: GraphJson<object> | GraphPage<GraphJson<object>>, headers: Record<string, string> = {}): EmulatorResponse {
  return { status, headers: { 'content-type': GRAPH_JSON, ...headers }, body };
}

export interface Preferences {
  maxPageSize?: number;
  immutableId: boolean;
  bodyContentType?: 'text' | 'html';
}

/** Parses every `Prefer` header value (several may be sent, comma-joined by Node). */
export function parsePreferences(header: string | string[] | undefined): Preferences {
  const joined = Array.isArray(header) ? header.join(',') : (header ?? '');
  const preferences: Preferences = { immutableId: false };
  for (const part of joined.split(',')) {
    const [rawKey, ...rest] = part.split('=');
    const key = (rawKey ?? '').trim().toLowerCase();
    const value = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (key === 'odata.maxpagesize') {
      const size = Number.parseInt(value, 10);
      if (Number.isFinite(size) && size > 0) preferences.maxPageSize = size;
    } else if (key === 'idtype' && value.toLowerCase() === 'immutableid') {
      preferences.immutableId = true;
    } else if (key === 'outlook.body-content-type') {
      const type = value.toLowerCase();
      if (type === 'text' || type === 'html') preferences.bodyContentType = type;
    }
  }
  return preferences;
}

/** `Preference-Applied` lists what the service honoured, like Graph does. */
export function preferenceApplied(preferences: Preferences, pageSizeApplied: boolean): Record<string, string> {
  const applied: string[] = [];
  if (pageSizeApplied && preferences.maxPageSize !== undefined) applied.push(`odata.maxpagesize=${preferences.maxPageSize}`);
  if (preferences.immutableId) applied.push('IdType="ImmutableId"');
  if (preferences.bodyContentType) applied.push(`outlook.body-content-type="${preferences.bodyContentType}"`);
  return applied.length > 0 ? { 'preference-applied': applied.join(', ') } : {};
}

/** `$select=subject,from` → ['subject','from']; undefined when absent (the default property set applies). */
export function parseSelect(value: string | null): string[] | undefined {
  if (value === null) return undefined;
  const fields = value
    .split(',')
    .map((field) => field.trim())
    .filter((field) => field.length > 0);
  return fields.length > 0 ? fields : undefined;
}

/** Reads an OData system query option with or without the `$` (Graph accepts both on v1.0). */
export function queryOption(url: URL, name: string): string | null {
  return url.searchParams.get(`$${name}`) ?? url.searchParams.get(name);
}

type FilterOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
type FilterLiteral = string | number | boolean | null | { dateTime: number };

export interface FilterClause {
  property: string;
  operator: FilterOperator;
  value: FilterLiteral;
}

export class FilterSyntaxError extends Error {}

/**
 * Parses `a eq 'x' and receivedDateTime ge 2024-01-01T00:00:00Z` — comparison
 * clauses joined by `and`, which covers what mail sync code sends.
 */
export function parseFilter(expression: string): FilterClause[] {
  const clauses: FilterClause[] = [];
  const pattern =
    /^\s*([A-Za-z][\w/]*)\s+(eq|ne|gt|ge|lt|le)\s+('(?:[^']|'')*'|true|false|null|-?\d+(?:\.\d+)?(?![\d-])|\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)\s*/i;
  let rest = expression;
  for (;;) {
    const match = pattern.exec(rest);
    if (!match) throw new FilterSyntaxError('Invalid filter clause');
    const [whole, property = '', operator = '', literal = ''] = match;
    clauses.push({ property, operator: operator.toLowerCase() as FilterOperator, value: parseLiteral(literal) });
    rest = rest.slice(whole.length);
    if (rest.trim() === '') return clauses;
    const conjunction = /^and\s+/i.exec(rest);
    if (!conjunction) throw new FilterSyntaxError('Invalid filter clause');
    rest = rest.slice(conjunction[0].length);
  }
}

function parseLiteral(literal: string): FilterLiteral {
  if (literal.startsWith("'")) return literal.slice(1, -1).replace(/''/g, "'");
  const lowered = literal.toLowerCase();
  if (lowered === 'true') return true;
  if (lowered === 'false') return false;
  if (lowered === 'null') return null;
  if (/^\d{4}-\d{2}-\d{2}T/.test(literal)) {
    const time = Date.parse(literal);
    if (Number.isNaN(time)) throw new FilterSyntaxError('Invalid filter clause');
    return { dateTime: time };
  }
  return Number(literal);
}

export function compareFilterValue(actual: unknown, clause: FilterClause): boolean {
  let left: unknown = actual;
  let right: unknown = clause.value;
  if (right !== null && typeof right === 'object' && 'dateTime' in right) right = right.dateTime;
  if (typeof left === 'string' && typeof right === 'string') {
    left = left.toLowerCase();
    right = right.toLowerCase();
  }
  switch (clause.operator) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'gt':
      return (left as number) > (right as number);
    case 'ge':
      return (left as number) >= (right as number);
    case 'lt':
      return (left as number) < (right as number);
    case 'le':
      return (left as number) <= (right as number);
  }
}

/** Path words the router knows; everything else in a path is an id or folder name. */
const KEYWORDS = new Set([
  'me',
  'users',
  'mailfolders',
  'messages',
  'delta',
  'attachments',
  'createuploadsession',
  'reply',
  'replyall',
  'createreply',
  'createreplyall',
  'forward',
  'createforward',
  'send',
  'sendmail',
  'move',
  'subscriptions',
  'reauthorize',
  '$batch',
  '$value',
  'childfolders',
]);

/**
 * Splits a Graph path into segments: `mailFolders('inbox')` becomes
 * `mailfolders`,`inbox`; keywords are lower-cased (Graph paths are
 * case-insensitive) while ids keep their case (ids are case-sensitive).
 */
export function pathSegments(path: string): string[] {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    const decoded = safeDecode(raw);
    const call = /^([^()]+)\('?(.*?)'?\)$/.exec(decoded);
    if (call) {
      segments.push(normaliseKeyword(call[1] ?? ''));
      segments.push(call[2] ?? '');
    } else {
      segments.push(normaliseKeyword(decoded));
    }
  }
  return segments;
}

function normaliseKeyword(segment: string): string {
  const lowered = segment.toLowerCase();
  if (lowered === 'microsoft.graph.delta') return 'delta';
  return KEYWORDS.has(lowered) ? lowered : segment;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
