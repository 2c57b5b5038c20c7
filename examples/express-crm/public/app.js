// The example CRM's page: plain DOM, no framework. Every piece of mail data is inserted with
// textContent or attributes, never as HTML; message bodies render in a sandboxed iframe.

const PROVIDER_NAMES = { gmail: 'Gmail', outlook: 'Outlook' };
const TYPE_NAMES = { client: 'Client', project: 'Project', proposal: 'Proposal', work_order: 'Work order' };
const STATUS_NAMES = { connecting: 'Connecting', backfilling: 'Back-filling', live: 'Live', needs_reauth: 'Needs re-auth', disconnected: 'Disconnected' };
const RULE_NAMES = {
  'participant.address': 'contact',
  'participant.domain': 'domain',
  reference: 'reference',
  signed_proposal: 'signed proposal',
  thread: 'same thread',
  subject: 'subject',
  manual: 'linked by hand',
};

const state = {
  session: null,
  records: [],
  /** { type, id } of the record on screen. */
  current: null,
  /** The first page of threads (reloaded on every live update)… */
  threads: [],
  /** …and threads from older pages the user asked for, kept below it. */
  olderThreads: [],
  next: null,
  connections: [],
  /** Message ids already on screen, to mark the ones that arrive live. */
  seen: new Set(),
  /** Bumped on every record switch so a slow response for the old record is dropped. */
  generation: 0,
};

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Creates an element; attributes via `attributes`, children as nodes or strings (text). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Puts `nodes` into `parent` in order, moving only what is out of place (keeps focus and typed text). */
function syncChildren(parent, nodes) {
  nodes.forEach((node, index) => {
    if (parent.children[index] !== node) parent.insertBefore(node, parent.children[index] ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}

class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const response = await fetch(`/api${path}`, {
    method,
    headers: method === 'GET' ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    ...(method === 'GET' ? {} : { body: JSON.stringify(body ?? {}) }),
  });
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const error = payload?.error ?? { code: `HTTP_${response.status}`, message: response.statusText };
    const detail = error.issues?.length ? ` (${error.issues.map((issue) => `${issue.path || 'input'}: ${issue.message}`).join('; ')})` : '';
    throw new ApiFailure(response.status, error.code, `${error.message}${detail}`);
  }
  return payload;
}

function announce(message) {
  const region = document.getElementById('live-region');
  // Clearing first makes screen readers repeat an identical announcement.
  region.textContent = '';
  setTimeout(() => (region.textContent = message), 50);
}

function notice(kind, title, lines = []) {
  const container = document.getElementById('notices');
  const dismiss = h('button', { type: 'button', class: 'button subtle', 'aria-label': `Dismiss: ${title}` }, 'Dismiss');
  const box = h(
    'div',
    { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('div', {}, h('strong', {}, title), lines.length ? h('ul', {}, lines.map((line) => h('li', {}, line))) : null),
    dismiss,
  );
  dismiss.addEventListener('click', () => box.remove());
  container.prepend(box);
  while (container.children.length > 4) container.lastElementChild.remove();
  return box;
}

function showError(error, context) {
  console.error(context, error);
  notice('error', `${context} failed`, [error instanceof ApiFailure ? `${error.message} (${error.code})` : String(error?.message ?? error)]);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const formatDate = (epochMs) => dateFormat.format(new Date(epochMs));
const personName = (participant) => (participant ? participant.name || participant.address : 'Unknown sender');
const personLabel = (participant) => (participant?.name ? `${participant.name} <${participant.address}>` : (participant?.address ?? 'Unknown sender'));
const recordKey = (record) => `${record.type}:${record.id}`;

// ---------------------------------------------------------------------------------------------
// Connections

const HEALTH_NAMES = { healthy: 'Healthy', degraded: 'Degraded', stalled: 'Stalled', needs_reauth: 'Needs re-auth' };

function renderConnections() {
  const list = document.getElementById('connections');
  const connected = new Set();
  const items = state.connections.map((connection) => {
    if (connection.status !== 'disconnected') connected.add(connection.provider);
    const provider = PROVIDER_NAMES[connection.provider] ?? connection.provider;
    const backfill = connection.backfill;
    const showProgress = connection.status === 'backfilling' || backfill.state === 'running' || backfill.state === 'pending';
    const progressId = `backfill-${connection.id}`;
    const progressText =
      backfill.estimatedTotal !== null ? `Back-fill: ${backfill.done} of ${backfill.estimatedTotal} messages` : `Back-fill: ${backfill.done} messages so far`;
    const disconnect = h('button', { type: 'button', class: 'button subtle', 'data-action': 'disconnect', 'aria-label': `Disconnect ${provider} ${connection.accountEmail}` }, 'Disconnect');
    disconnect.addEventListener('click', () => confirmDisconnect(item, connection));
    const reconnect =
      connection.status === 'needs_reauth'
        ? h('button', { type: 'button', class: 'button primary', onclick: () => connect(connection.provider) }, `Reconnect ${provider}`)
        : null;
    const item = h(
      'li',
      { class: 'connection', 'data-connection-id': connection.id, 'data-provider': connection.provider, 'data-status': connection.status },
      h('span', { class: 'connection-provider' }, provider),
      h('span', { class: 'connection-account' }, connection.accountEmail),
      h('span', { class: `status status-${connection.status}`, 'data-testid': 'connection-status' }, STATUS_NAMES[connection.status] ?? connection.status),
      showProgress
        ? h(
            'span',
            { class: 'backfill' },
            h('label', { for: progressId, class: 'visually-hidden' }, `${provider} back-fill progress`),
            backfill.estimatedTotal !== null
              ? h('progress', { id: progressId, max: Math.max(backfill.estimatedTotal, 1), value: Math.min(backfill.done, backfill.estimatedTotal) })
              : h('progress', { id: progressId }),
            h('span', { class: 'backfill-text' }, progressText),
          )
        : null,
      connection.health.verdict
        ? h(
            'span',
            { class: `health health-${connection.health.verdict}`, 'data-testid': 'connection-health', title: connection.health.reason ?? '' },
            `${HEALTH_NAMES[connection.health.verdict] ?? connection.health.verdict}${connection.health.syncLagMs ? ` · lag ${Math.round(connection.health.syncLagMs / 1000)} s` : ''}`,
          )
        : null,
      connection.health.verdict && connection.health.verdict !== 'healthy' && connection.health.reason ? h('span', { class: 'muted' }, connection.health.reason) : null,
      connection.health.lastErrorCode && connection.status !== 'live' ? h('span', { class: 'muted' }, `Last error: ${connection.health.lastErrorCode}`) : null,
      reconnect,
      disconnect,
    );
    return item;
  });
  list.replaceChildren(...items);
  if (state.current) updateEmptyState();
  const providers = state.session?.providers ?? [];
  for (const provider of ['gmail', 'outlook']) {
    const button = document.getElementById(`connect-${provider}`);
    button.hidden = !providers.includes(provider) || connected.has(provider);
  }
}

async function loadConnections() {
  const { connections } = await api('/connections');
  state.connections = connections;
  renderConnections();
}

async function connect(provider) {
  try {
    const returnHash = /^#\/[a-z_]+\/[^/]+$/.test(window.location.hash) ? window.location.hash : undefined;
    const { url } = await api(`/connect/${provider}`, { method: 'POST', body: returnHash ? { returnHash } : {} });
    // The provider's consent page; its callback brings the browser back here.
    window.location.assign(url);
  } catch (error) {
    showError(error, `Connecting ${PROVIDER_NAMES[provider]}`);
  }
}

function confirmDisconnect(item, connection) {
  const provider = PROVIDER_NAMES[connection.provider];
  const cancel = h('button', { type: 'button', class: 'button subtle' }, 'Cancel');
  const confirm = h('button', { type: 'button', class: 'button danger', 'data-action': 'confirm-disconnect' }, `Yes, disconnect ${provider}`);
  const question = h(
    'span',
    { class: 'confirm', role: 'group', 'aria-label': `Confirm disconnecting ${provider}` },
    h('span', {}, 'Stop syncing and delete all stored mail data for this mailbox?'),
    confirm,
    cancel,
  );
  cancel.addEventListener('click', () => {
    renderConnections();
    item.ownerDocument.querySelector(`[data-connection-id="${CSS.escape(connection.id)}"] [data-action="disconnect"]`)?.focus();
  });
  confirm.addEventListener('click', () => disconnect(connection, confirm));
  item.append(question);
  confirm.focus();
}

async function disconnect(connection, button) {
  button.disabled = true;
  try {
    const result = await api(`/connections/${encodeURIComponent(connection.id)}/disconnect`, { method: 'POST' });
    const deleted = result.deleted;
    notice('success', `Disconnected ${PROVIDER_NAMES[result.provider]} (${result.accountEmail})`, [
      result.unsubscribed ? 'Push notifications stopped.' : 'Push notifications could not be stopped (they expire on their own).',
      result.revoked ? 'Access revoked at the provider.' : 'Access could not be revoked; remove it in the account settings.',
      `Deleted ${deleted.messages} message records, ${deleted.links} record links, ${deleted.connections} mailbox connection and ${deleted.other} other rows.`,
    ]);
    announce(`${PROVIDER_NAMES[result.provider]} disconnected. Deleted ${deleted.messages} messages.`);
    const record = state.records.find((candidate) => state.current && recordKey(candidate) === recordKey(state.current));
    await Promise.all([loadConnections(), record ? showRecord(record) : Promise.resolve()]);
  } catch (error) {
    button.disabled = false;
    showError(error, 'Disconnecting');
  }
}

// ---------------------------------------------------------------------------------------------
// Records

function renderRecordLists() {
  const make = (record) =>
    h(
      'li',
      {},
      h(
        'a',
        { href: `#/${record.type}/${encodeURIComponent(record.id)}`, 'data-record': recordKey(record) },
        h('span', { class: 'record-label' }, record.label),
        h('span', { class: 'record-description' }, record.type === 'client' ? record.description : `${TYPE_NAMES[record.type]} · ${record.description}`),
      ),
    );
  document.getElementById('clients-list').replaceChildren(...state.records.filter((record) => record.type === 'client').map(make));
  document.getElementById('jobs-list').replaceChildren(...state.records.filter((record) => record.type !== 'client').map(make));
}

function markCurrentRecord() {
  for (const link of document.querySelectorAll('.record-list a')) {
    if (state.current && link.dataset.record === recordKey(state.current)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function renderRecordDetails(record) {
  document.getElementById('record-title').textContent = record.label;
  document.getElementById('record-kind').textContent = record.type === 'client' ? `Client · ${record.description}` : `${TYPE_NAMES[record.type]} · ${record.description}`;
  const facts = [];
  const fact = (term, ...values) => facts.push(h('dt', {}, term), ...values.map((value) => h('dd', {}, value)));
  if (record.contacts.length) fact('Contacts', ...record.contacts.map((contact) => `${contact.name} <${contact.email}>`));
  if (record.domains.length) fact('Mail domains', ...record.domains);
  if (record.reference) fact('Reference', record.reference);
  if (record.client) {
    fact('Client', h('a', { href: `#/client/${encodeURIComponent(record.client.id)}` }, record.client.label));
  }
  document.getElementById('record-facts').replaceChildren(...facts);
  document.getElementById('mail-heading').textContent = record.type === 'client' ? `Mail with ${record.label}` : `Mail matched to ${record.label}`;
  document.getElementById('mail-explainer').textContent =
    record.type === 'client'
      ? 'Every conversation with this client’s people and domain, whole threads.'
      : 'Only messages linked to this record, each with the reason it was linked.';
}

function recordFromHash() {
  const match = /^#\/([a-z_]+)\/(.+)$/.exec(window.location.hash);
  if (!match) return null;
  const id = decodeURIComponent(match[2]);
  return state.records.find((record) => record.type === match[1] && record.id === id) ?? null;
}

async function showRecord(record) {
  state.current = { type: record.type, id: record.id };
  state.generation += 1;
  state.threads = [];
  state.olderThreads = [];
  state.next = null;
  state.seen = new Set();
  threadNodes.clear();
  messageNodes.clear();
  document.getElementById('threads').replaceChildren();
  markCurrentRecord();
  renderRecordDetails(record);
  document.title = `${record.label} — Acme CRM`;
  await refreshTimeline({ initial: true });
}

// ---------------------------------------------------------------------------------------------
// Timeline

async function fetchTimeline(after) {
  const { type, id } = state.current;
  const query = after ? `?after=${encodeURIComponent(after)}` : '';
  return api(`/records/${encodeURIComponent(type)}/${encodeURIComponent(id)}/timeline${query}`);
}

/** Reloads the first page; threads from older pages already shown stay below it. */
async function refreshTimeline({ initial = false } = {}) {
  if (!state.current) return;
  const generation = state.generation;
  const container = document.getElementById('threads');
  container.setAttribute('aria-busy', 'true');
  try {
    const page = await fetchTimeline(null);
    if (generation !== state.generation) return;
    const fresh = new Set(page.threads.map((thread) => thread.threadId));
    state.threads = page.threads;
    state.olderThreads = state.olderThreads.filter((thread) => !fresh.has(thread.threadId));
    if (state.olderThreads.length === 0) state.next = page.next;
    renderThreads({ initial });
  } catch (error) {
    if (generation === state.generation) showError(error, 'Loading mail');
  } finally {
    if (generation === state.generation) container.setAttribute('aria-busy', 'false');
  }
}

async function loadOlder() {
  if (!state.next) return;
  const generation = state.generation;
  try {
    const page = await fetchTimeline(state.next);
    if (generation !== state.generation) return;
    const known = new Set([...state.threads, ...state.olderThreads].map((thread) => thread.threadId));
    state.olderThreads.push(...page.threads.filter((thread) => !known.has(thread.threadId)));
    state.next = page.next;
    renderThreads({ initial: true });
  } catch (error) {
    showError(error, 'Loading older mail');
  }
}

const threadNodes = new Map();
const messageNodes = new Map();

function renderThreads({ initial }) {
  const container = document.getElementById('threads');
  const record = state.records.find((candidate) => state.current && recordKey(candidate) === recordKey(state.current));
  const threads = [...state.threads, ...state.olderThreads];
  const nodes = threads.map((thread) => {
    let node = threadNodes.get(thread.threadId);
    if (!node?.isConnected) {
      node = createThreadNode(thread);
      threadNodes.set(thread.threadId, node);
    }
    updateThreadNode(node, thread, { initial, record });
    return node;
  });
  syncChildren(container, nodes);
  updateEmptyState();
  document.getElementById('load-more').hidden = !state.next;
}

function updateEmptyState() {
  const empty = document.getElementById('empty-state');
  empty.hidden = state.threads.length + state.olderThreads.length > 0;
  if (empty.hidden) return;
  const active = state.connections.filter((connection) => connection.status !== 'disconnected');
  empty.textContent = active.some((connection) => connection.status === 'backfilling')
    ? 'No mail for this record yet. Older mail is still being back-filled…'
    : active.length > 0
      ? 'No mail for this record yet.'
      : 'No mail yet. Connect a mailbox to see this record’s mail.';
}

function createThreadNode(thread) {
  const headingId = `thread-${cssId(thread.threadId)}`;
  const node = h(
    'article',
    { class: 'thread', 'data-thread-id': thread.threadId, 'aria-labelledby': headingId },
    h('header', { class: 'thread-header' }, h('h3', { id: headingId, class: 'thread-subject' }), h('p', { class: 'thread-meta muted' })),
    h('ol', { class: 'messages' }),
  );
  node.append(createReplyForm());
  return node;
}

function updateThreadNode(node, thread, { initial }) {
  node.querySelector('.thread-subject').textContent = thread.subject || '(no subject)';
  node.querySelector('.thread-meta').textContent =
    `${thread.messageCount} message${thread.messageCount === 1 ? '' : 's'} · last activity ${formatDate(thread.lastActivityAt)} · ${thread.participants.join(', ')}`;
  const list = node.querySelector('.messages');
  const items = thread.messages.map((message) => {
    let item = messageNodes.get(message.id);
    if (!item || (item.isConnected && item.closest('.thread') !== node)) {
      item = createMessageNode(message);
      messageNodes.set(message.id, item);
      // Highlight mail that just arrived, not history a back-fill brings in.
      if (!initial && !state.seen.has(message.id) && Date.now() - message.receivedAt < 10 * 60_000) {
        item.classList.add('is-new');
        setTimeout(() => item.classList.remove('is-new'), 4000);
      }
    }
    updateMessageNode(item, message);
    state.seen.add(message.id);
    return item;
  });
  syncChildren(list, items);
  // Replies answer the newest message someone else sent (or the newest one when all are ours).
  const target = [...thread.messages].reverse().find((message) => message.direction === 'inbound') ?? thread.messages[thread.messages.length - 1];
  const form = node.querySelector('.reply-form');
  form.dataset.messageId = target?.id ?? '';
  form.querySelector('.reply-label').textContent = `Reply to ${personName(target?.direction === 'inbound' ? target.from : target?.to?.[0])}`;
}

const cssId = (value) => value.replace(/[^A-Za-z0-9_-]/g, '_');

function createMessageNode(message) {
  const bodyId = `body-${cssId(message.id)}`;
  const toggle = h('button', { type: 'button', class: 'button subtle message-toggle', 'aria-expanded': 'false', 'aria-controls': bodyId }, 'Show message');
  const body = h('div', { class: 'message-body', id: bodyId, hidden: true });
  toggle.addEventListener('click', () => toggleBody(message.id, toggle, body));
  return h(
    'li',
    { class: 'message', 'data-message-id': message.id },
    h(
      'div',
      { class: 'message-header' },
      h('span', { class: 'message-from' }),
      h('span', { class: 'direction' }),
      h('time', { class: 'message-date muted' }),
    ),
    h('p', { class: 'message-recipients muted' }),
    h('p', { class: 'match-reason' }),
    h('ul', { class: 'links', 'aria-label': 'Linked records' }),
    h('p', { class: 'attachments muted' }),
    toggle,
    body,
  );
}

function updateMessageNode(item, message) {
  item.querySelector('.message-from').textContent = personLabel(message.from);
  const direction = item.querySelector('.direction');
  direction.textContent = message.direction === 'outbound' ? 'Sent' : 'Received';
  direction.className = `direction direction-${message.direction}`;
  const date = item.querySelector('.message-date');
  date.dateTime = new Date(message.receivedAt).toISOString();
  date.textContent = `${formatDate(message.receivedAt)} · ${PROVIDER_NAMES[message.provider] ?? message.provider}`;
  item.querySelector('.message-recipients').textContent = `To ${message.to.map((participant) => participant.address).join(', ') || '—'}${message.cc.length ? ` · Cc ${message.cc.map((participant) => participant.address).join(', ')}` : ''}`;
  const reason = item.querySelector('.match-reason');
  reason.hidden = !message.match;
  reason.textContent = message.match ? `Why it is here: ${message.match.reason} (${RULE_NAMES[message.match.rule] ?? message.match.rule}, ${Math.round(message.match.confidence * 100)}%)` : '';
  item.querySelector('.links').replaceChildren(
    ...message.links.map((link) =>
      h(
        'li',
        {},
        h('a', { class: 'chip', href: `#/${link.type}/${encodeURIComponent(link.id)}`, title: link.reason }, `${link.label} · ${RULE_NAMES[link.rule] ?? link.rule}`),
      ),
    ),
  );
  const attachments = item.querySelector('.attachments');
  attachments.hidden = message.attachments.length === 0;
  attachments.textContent = message.attachments.length ? `Attachments: ${message.attachments.map((attachment) => attachment.name).join(', ')}` : '';
}

// The body lives in an iframe with an empty sandbox: no scripts, no forms, no plugins, no
// top navigation, a unique origin. Its own CSP (on top of the page's, which srcdoc inherits)
// allows inline styles and data: images only — nothing in a message can phone home.
const BODY_DOCUMENT_HEAD =
  '<!doctype html><html><head><meta charset="utf-8">' +
  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">" +
  '<style>body{font:15px/1.5 system-ui,sans-serif;color:#1f2328;margin:12px;word-wrap:break-word}img{max-width:100%;height:auto}pre{white-space:pre-wrap}</style>' +
  '</head><body>';

async function toggleBody(messageId, toggle, body) {
  const expanded = toggle.getAttribute('aria-expanded') === 'true';
  if (expanded) {
    toggle.setAttribute('aria-expanded', 'false');
    toggle.textContent = 'Show message';
    body.hidden = true;
    return;
  }
  toggle.setAttribute('aria-expanded', 'true');
  toggle.textContent = 'Hide message';
  body.hidden = false;
  if (body.dataset.loaded === 'true') return;
  body.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Fetching the message from the mailbox…'));
  try {
    const result = await api(`/messages/${encodeURIComponent(messageId)}/body`);
    const subject = toggle.closest('.thread')?.querySelector('.thread-subject')?.textContent ?? 'message';
    const children = [];
    if (result.html) {
      children.push(h('iframe', { class: 'body-frame', sandbox: '', title: `Message body: ${subject}`, srcdoc: `${BODY_DOCUMENT_HEAD}${result.html}</body></html>` }));
    } else {
      children.push(h('pre', { class: 'body-text' }, result.text ?? '(empty message)'));
    }
    if (result.attachments?.length) {
      children.push(h('p', { class: 'muted' }, `Attachments: ${result.attachments.map((attachment) => `${attachment.name}${attachment.size ? ` (${Math.ceil(attachment.size / 1024)} KB)` : ''}`).join(', ')}`));
    }
    body.replaceChildren(...children);
    body.dataset.loaded = 'true';
  } catch (error) {
    body.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not fetch this message: ${error.message}`));
  }
}

function createReplyForm() {
  const id = `reply-${Math.random().toString(36).slice(2)}`;
  const textarea = h('textarea', { id, name: 'text', rows: 2, required: true, class: 'reply-text' });
  const send = h('button', { type: 'submit', class: 'button primary' }, 'Send reply');
  const form = h('form', { class: 'reply-form' }, h('label', { for: id, class: 'reply-label' }, 'Reply'), textarea, send);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text || !form.dataset.messageId) return;
    send.disabled = true;
    send.textContent = 'Sending…';
    try {
      await api(`/messages/${encodeURIComponent(form.dataset.messageId)}/reply`, { method: 'POST', body: { text } });
      textarea.value = '';
      announce('Reply sent.');
      await refreshTimeline();
    } catch (error) {
      showError(error, 'Sending the reply');
    } finally {
      send.disabled = false;
      send.textContent = 'Send reply';
    }
  });
  return form;
}

// ---------------------------------------------------------------------------------------------
// Live updates (Server-Sent Events)

let refreshTimer = null;
let connectionsTimer = null;

/** Bursts (a back-fill matches hundreds of messages) collapse into one reload. */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refreshTimeline(), 200);
}

function scheduleConnections() {
  if (connectionsTimer) return;
  connectionsTimer = setTimeout(() => {
    connectionsTimer = null;
    loadConnections().catch((error) => showError(error, 'Loading mailboxes'));
  }, 300);
}

function listen() {
  const events = new EventSource('/api/events');
  events.addEventListener('message.matched', (event) => {
    const data = JSON.parse(event.data);
    const concerned = state.current && data.records.some((record) => recordKey(record) === recordKey(state.current));
    if (concerned) scheduleRefresh();
    // Only fresh inbound mail is news; a back-fill brings history.
    if (data.direction === 'inbound' && Date.now() - data.receivedAt < 5 * 60_000) {
      announce(`New mail from ${data.from ?? 'unknown sender'}: ${data.subject}`);
    }
  });
  events.addEventListener('message.deleted', (event) => {
    const { messageId } = JSON.parse(event.data);
    if (state.seen.has(messageId)) scheduleRefresh();
  });
  for (const name of ['backfill.progress', 'backfill.done', 'connection.live', 'connection.needs_reauth', 'connection.stalled', 'connection.disconnected']) {
    events.addEventListener(name, () => scheduleConnections());
  }
  // Progress ticks are not announced (too chatty); the moments that matter are.
  events.addEventListener('connection.live', (event) => {
    const data = JSON.parse(event.data);
    announce(`${PROVIDER_NAMES[data.provider] ?? data.provider} ${data.status === 'live' ? 'is live' : 'is connected and back-filling'}.`);
  });
  events.addEventListener('backfill.done', (event) => {
    const data = JSON.parse(event.data);
    announce(`Back-fill finished: ${data.total} messages.`);
  });
  events.addEventListener('connection.needs_reauth', (event) => {
    const data = JSON.parse(event.data);
    notice('error', `${PROVIDER_NAMES[data.provider] ?? data.provider} needs you to sign in again`, [data.reason]);
  });
  events.addEventListener('connection.disconnected', () => scheduleRefresh());
  // On every (re)connection, reload what may have changed while no stream was open: a
  // back-fill can finish between the page's first requests and the stream opening.
  events.addEventListener('open', () => {
    document.body.setAttribute('data-live', 'true');
    scheduleConnections();
    if (state.current) scheduleRefresh();
  });
  events.addEventListener('error', () => document.body.setAttribute('data-live', 'false'));
}

// ---------------------------------------------------------------------------------------------
// Demo controls

function setUpDemo(demo) {
  const panel = document.getElementById('demo-panel');
  panel.hidden = false;
  document.getElementById('demo-senders').replaceChildren(...demo.senders.map((sender) => h('option', { value: sender.email }, `${sender.name} (${sender.client})`)));
  const form = document.getElementById('demo-send-form');
  const button = document.getElementById('demo-send');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    button.disabled = true;
    try {
      await api('/demo/send', {
        method: 'POST',
        body: { provider: data.get('provider'), from: data.get('from'), subject: data.get('subject'), text: data.get('text') },
      });
      announce('Sent. The message arrives by push in a moment.');
    } catch (error) {
      showError(error, 'Sending the demo email');
    } finally {
      button.disabled = false;
    }
  });
}

function preferConnectedProvider() {
  const select = document.getElementById('demo-provider');
  const live = state.connections.find((connection) => connection.status !== 'disconnected');
  if (live) select.value = live.provider;
}

// ---------------------------------------------------------------------------------------------
// Start

async function start() {
  for (const provider of ['gmail', 'outlook']) {
    document.getElementById(`connect-${provider}`).addEventListener('click', () => connect(provider));
  }
  document.getElementById('load-more').addEventListener('click', () => void loadOlder());

  listen();
  const [session, { records }] = await Promise.all([api('/session'), api('/records')]);
  state.session = session;
  state.records = records;
  const badge = document.getElementById('mode-badge');
  badge.hidden = false;
  const providerList = session.providers.map((provider) => PROVIDER_NAMES[provider] ?? provider).join(' and ');
  badge.textContent = session.mode === 'demo' ? `Demo mode · emulated ${providerList}` : `Live ${providerList}`;
  renderRecordLists();
  await loadConnections();
  if (session.demo) {
    setUpDemo(session.demo);
    preferConnectedProvider();
  }

  // Back from the provider's consent page: say so, then tidy the address bar.
  const params = new URLSearchParams(window.location.search);
  if (params.has('connected') || params.has('error')) {
    const connection = state.connections.find((candidate) => candidate.id === params.get('connected'));
    if (connection) {
      notice('success', `${PROVIDER_NAMES[connection.provider]} connected (${connection.accountEmail})`, ['New mail arrives by push; older mail is being back-filled.']);
    } else if (params.has('error')) {
      notice('error', 'Connecting the mailbox failed', [params.get('error')]);
    }
    history.replaceState(null, '', window.location.pathname + window.location.hash);
  }

  const route = () => {
    const record = recordFromHash() ?? state.records[0];
    if (record) void showRecord(record);
  };
  window.addEventListener('hashchange', route);
  route();
}

start().catch((error) => showError(error, 'Starting the page'));
