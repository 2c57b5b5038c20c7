// `GET /me/mailFolders/{id}/messages/delta`: rounds of pages linked by
// `@odata.nextLink` ($skiptoken) ending in `@odata.deltaLink` ($deltatoken).
// Query options of the first request ($select, $filter, changeType) live in
// the opaque tokens; an unknown or expired token is 410 SyncStateNotFound.
// Sources: api/message-delta.md, concepts/delta-query-messages.md,
// microsoft-graph-docs issues 2350 and 2877 (the 410 body).
import type { Message } from '@microsoft/microsoft-graph-types';
import type { EmulatorResponse } from '../common/server.js';
import type { GraphCall } from './context.js';
import { newOpaqueToken } from './ids.js';
import type { Mailbox, MailStore, StoredMessage } from './mail-store.js';
import { matchesFilter, renderMessage, unknownSelectProperty } from './message-json.js';
import { hasAnyScope, MAIL_READ_CONTENT } from './permissions.js';
import {
  type FilterClause,
  FilterSyntaxError,
  type GraphJson,
  type GraphPage,
  graphError,
  graphJson,
  parseFilter,
  parseSelect,
  preferenceApplied,
  queryOption,
} from './odata.js';

/**
 * A delta page's item: a message (its selected properties), or an id that left the folder —
 * `@removed` (api/message-delta.md); the emulator says `deleted` for a move out and a delete alike,
 * as a folder's delta cannot tell them apart (the adapter reads the id to find out).
 */
type DeltaItem = GraphJson<Message> | (GraphJson<Pick<Message, 'id'>> & { '@removed': { reason: 'changed' | 'deleted' } });

/** Graph pages message delta 10 at a time unless `Prefer: odata.maxpagesize` says otherwise. */
const DEFAULT_PAGE_SIZE = 10;

type DeltaChangeType = 'created' | 'updated' | 'deleted';

interface DeltaQuery {
  select?: string[];
  filter?: FilterClause[];
  changeType?: DeltaChangeType;
}

type Entry = { kind: 'message'; immutableId: string; restId: string } | { kind: 'removed'; immutableId: string; restId: string };

interface DeltaToken {
  kind: 'delta';
  mailbox: Mailbox;
  folderId: string;
  epoch: number;
  sinceSeq: number;
  query: DeltaQuery;
}

interface SkipToken {
  kind: 'skip';
  mailbox: Mailbox;
  folderId: string;
  epoch: number;
  untilSeq: number;
  query: DeltaQuery;
  entries: Entry[];
  offset: number;
}

export class DeltaService {
  private readonly tokens = new Map<string, DeltaToken | SkipToken>();

  constructor(private readonly store: MailStore) {}

  /** Every token handed out before this call now answers 410. */
  expire(mailbox: Mailbox): void {
    mailbox.syncEpoch += 1;
  }

  handle(call: GraphCall, folderReference: string): EmulatorResponse {
    const mailbox = call.mailbox;
    const skipToken = queryOption(call.url, 'skiptoken');
    const deltaToken = queryOption(call.url, 'deltatoken');
    const tokenValue = skipToken ?? deltaToken;

    let page: SkipToken;
    if (tokenValue !== null) {
      const state = this.tokens.get(tokenValue);
      if (!state || state.mailbox !== mailbox || state.epoch !== mailbox.syncEpoch) return syncStateNotFound();
      page = state.kind === 'skip' ? state : this.startRound(mailbox, state.folderId, state.query, state.sinceSeq);
    } else {
      const folder = this.store.resolveFolder(mailbox, folderReference);
      if (!folder) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const query = parseDeltaQuery(call.url);
      if ('status' in query) return query;
      page = this.startRound(mailbox, folder.id, query, 0);
    }

    const topOption = queryOption(call.url, 'top');
    const top = topOption === null ? undefined : Number.parseInt(topOption, 10);
    const pageSize = call.preferences.maxPageSize ?? (top !== undefined && top > 0 ? top : DEFAULT_PAGE_SIZE);
    const slice = page.entries.slice(page.offset, page.offset + pageSize);
    const value = slice.map((entry) => this.renderEntry(call, page, entry));
    const nextOffset = page.offset + slice.length;
    // Links keep the mailbox's path as requested: /me for a signed-in user, /users/{id} for an app.
    const root = /^(.*?)\/mailfolders/i.exec(call.url.pathname)?.[1] ?? '/v1.0/me';
    const link = `${call.origin}${root}/mailfolders('${page.folderId}')/messages/delta`;
    const body: GraphPage<DeltaItem> = { '@odata.context': `${call.origin}/v1.0/$metadata#Collection(message)`, value };
    if (nextOffset < page.entries.length) {
      const token = newOpaqueToken(32);
      this.tokens.set(token, { ...page, offset: nextOffset });
      body['@odata.nextLink'] = `${link}?$skiptoken=${token}`;
    } else {
      const token = newOpaqueToken(32);
      this.tokens.set(token, {
        kind: 'delta',
        mailbox,
        folderId: page.folderId,
        epoch: page.epoch,
        sinceSeq: page.untilSeq,
        query: page.query,
      });
      body['@odata.deltaLink'] = `${link}?$deltatoken=${token}`;
    }
    return graphJson(200, body, preferenceApplied(call.preferences, call.preferences.maxPageSize !== undefined));
  }

  private startRound(mailbox: Mailbox, folderId: string, query: DeltaQuery, sinceSeq: number): SkipToken {
    const inFolder = this.store.messagesInFolder(mailbox, folderId).filter((message) => query.filter === undefined || matchesFilter(message, query.filter));
    let entries: Entry[];
    if (sinceSeq === 0) {
      entries =
        query.changeType === 'deleted'
          ? []
          : inFolder
              .sort((left, right) => right.receivedAt - left.receivedAt)
              .map((message) => ({ kind: 'message', immutableId: message.immutableId, restId: message.restId }));
    } else {
      const changes: Array<{ seq: number; entry: Entry }> = [];
      if (query.changeType !== 'deleted') {
        for (const message of inFolder) {
          if (message.version <= sinceSeq) continue;
          const created = message.folderSeq > sinceSeq;
          if (query.changeType === 'created' && !created) continue;
          if (query.changeType === 'updated' && created) continue;
          changes.push({ seq: message.version, entry: { kind: 'message', immutableId: message.immutableId, restId: message.restId } });
        }
      }
      if (query.changeType === undefined || query.changeType === 'deleted') {
        const latest = new Map<string, { seq: number; entry: Entry }>();
        for (const tombstone of mailbox.tombstones) {
          if (tombstone.folderId !== folderId || tombstone.seq <= sinceSeq) continue;
          const current = mailbox.messages.get(tombstone.immutableId);
          if (current && current.folderId === folderId) continue;
          latest.set(tombstone.immutableId, {
            seq: tombstone.seq,
            entry: { kind: 'removed', immutableId: tombstone.immutableId, restId: tombstone.restId },
          });
        }
        changes.push(...latest.values());
      }
      entries = changes.sort((left, right) => left.seq - right.seq).map((change) => change.entry);
    }
    return { kind: 'skip', mailbox, folderId, epoch: mailbox.syncEpoch, untilSeq: mailbox.seq, query, entries, offset: 0 };
  }

  private renderEntry(call: GraphCall, page: SkipToken, entry: Entry): DeltaItem {
    const immutable = call.preferences.immutableId;
    const message: StoredMessage | undefined = page.mailbox.messages.get(entry.immutableId);
    if (entry.kind === 'removed' || !message || message.folderId !== page.folderId) {
      return {
        '@odata.type': '#microsoft.graph.message',
        id: immutable ? entry.immutableId : entry.restId,
        '@removed': { reason: 'deleted' },
      };
    }
    return {
      '@odata.type': '#microsoft.graph.message',
      ...renderMessage(message, {
        ...(page.query.select === undefined ? {} : { select: page.query.select }),
        contentAllowed: hasAnyScope(call.scopes, MAIL_READ_CONTENT),
        immutableId: immutable,
        ...(call.preferences.bodyContentType === undefined ? {} : { bodyContentType: call.preferences.bodyContentType }),
        webBase: call.origin,
      }),
    };
  }
}

function syncStateNotFound(): EmulatorResponse {
  return graphError(410, 'SyncStateNotFound', 'The sync state generation is not found; generation=0;[highest=1][1].');
}

function parseDeltaQuery(url: URL): DeltaQuery | EmulatorResponse {
  const select = parseSelect(queryOption(url, 'select'));
  const unknown = unknownSelectProperty(select);
  if (unknown !== undefined) {
    return graphError(400, 'RequestBroker--ParseUri', `Could not find a property named '${unknown}' on type 'microsoft.graph.message'.`);
  }
  const query: DeltaQuery = {};
  if (select !== undefined) query.select = select;
  const filter = queryOption(url, 'filter');
  if (filter !== null) {
    try {
      const clauses = parseFilter(filter);
      // Delta supports only receivedDateTime ge|gt (api/message-delta.md).
      if (!clauses.every((clause) => clause.property.toLowerCase() === 'receiveddatetime' && (clause.operator === 'ge' || clause.operator === 'gt'))) {
        return graphError(400, 'ErrorInvalidUrlQueryFilter', 'The only supported $filter for message delta is receivedDateTime ge|gt {value}.');
      }
      query.filter = clauses;
    } catch (error) {
      if (error instanceof FilterSyntaxError) return graphError(400, 'BadRequest', error.message);
      throw error;
    }
  }
  const changeType = url.searchParams.get('changeType') ?? url.searchParams.get('changetype');
  if (changeType !== null) {
    if (changeType !== 'created' && changeType !== 'updated' && changeType !== 'deleted') {
      return graphError(400, 'BadRequest', `Invalid changeType '${changeType}'.`);
    }
    query.changeType = changeType;
  }
  return query;
}
