// The example CRM's page: plain DOM, no framework. Every piece of mail data is inserted with
// textContent or attributes, never as HTML; message bodies render in a sandboxed iframe, are
// fetched when a message is opened and kept only in that iframe (no storage, no cache).
import { draftInto, setUpPeople } from './assist.js';
import { PLAIN_ERRORS, plainError } from './errors.js';
import { setUpOrganizations } from './org.js';
import { avatarColour, duration, formatDate, initials, relativeTime } from './format.js';

const PROVIDER_NAMES = { gmail: 'Gmail', outlook: 'Outlook' };
const TYPE_NAMES = { client: 'Client', contact: 'Contact', project: 'Project', proposal: 'Proposal', work_order: 'Work order' };
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
  /** Bumped on every record switch so a slow page of older mail ("Load more") for the old record is dropped. */
  generation: 0,
  /** Whether the record on screen has had its first render (mail in it then is history, not news). */
  timelineShown: false,
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

/**
 * Only the newest of overlapping loads of one view may render. Events trigger loads that overlap
 * (a purge sends a burst; a live update lands during the user's own action) and the answers can
 * come back out of order: an answer read before the latest change would overwrite a newer one and
 * stay on screen until the next event. `begin()` starts a load and returns its check, true while
 * no later load of the same view has begun; a superseded load drops its answer.
 */
function loadSequence() {
  let latest = 0;
  return {
    begin() {
      const load = ++latest;
      return () => load === latest;
    },
  };
}

class ApiFailure extends Error {
  constructor(status, code, message, issues = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  let response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers: method === 'GET' ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      ...(method === 'GET' ? {} : { body: JSON.stringify(body ?? {}) }),
    });
  } catch {
    throw new ApiFailure(0, 'NETWORK', 'The server cannot be reached');
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const error = payload?.error ?? { code: `HTTP_${response.status}`, message: response.statusText };
    throw new ApiFailure(response.status, error.code, error.message, error.issues ?? []);
  }
  return payload;
}

function announce(message) {
  const region = document.getElementById('live-region');
  // Clearing first makes screen readers repeat an identical announcement.
  region.textContent = '';
  setTimeout(() => (region.textContent = message), 50);
}

/** A dismissable notice; `actions` are `{ label, run }` buttons shown under the text. */
function notice(kind, title, lines = [], { actions = [], code } = {}) {
  const container = document.getElementById('notices');
  const dismiss = h('button', { type: 'button', class: 'button subtle', 'aria-label': `Dismiss: ${title}` }, 'Dismiss');
  const buttons = actions.map(({ label, run }) =>
    h(
      'button',
      {
        type: 'button',
        class: 'button primary',
        onclick: () => {
          box.remove();
          run();
        },
      },
      label,
    ),
  );
  const box = h(
    'div',
    { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-error-code': code },
    h(
      'div',
      { class: 'notice-text' },
      h('strong', {}, title),
      lines.length
        ? h(
            'ul',
            {},
            lines.map((line) => h('li', {}, line)),
          )
        : null,
      buttons.length ? h('div', { class: 'notice-actions' }, buttons) : null,
    ),
    dismiss,
  );
  dismiss.addEventListener('click', () => box.remove());
  container.prepend(box);
  while (container.children.length > 4) container.lastElementChild.remove();
  return box;
}

/** The connection an error is about, for "{provider}" and "Reconnect". */
const connectionFor = (provider) => state.connections.find((connection) => connection.provider === provider && connection.status !== 'disconnected');

/** The button that fixes an error of this kind, if there is one. */
function errorAction(action, { provider, retry } = {}) {
  const name = PROVIDER_NAMES[provider];
  if ((action === 'reconnect' || action === 'connect') && provider) {
    return { label: `${action === 'reconnect' ? 'Reconnect' : 'Connect'} ${name}`, run: () => connect(provider) };
  }
  if (action === 'retry' && retry) return { label: 'Try again', run: retry };
  if (action === 'reload') return { label: 'Reload', run: () => window.location.reload() };
  return null;
}

/**
 * Tells the user what went wrong in their words: the sentence for the code and the action that
 * fixes it. The code itself is kept on the notice (`data-error-code`) for support, not shown.
 */
function showError(error, context, { provider, retry } = {}) {
  console.error(context, error);
  const code = error instanceof ApiFailure ? error.code : 'INTERNAL';
  const connection = provider ? connectionFor(provider) : null;
  const plain = plainError(code, { provider: PROVIDER_NAMES[provider], account: connection?.accountEmail });
  const lines = [plain.sentence];
  // Validation issues are written for people ("Write something to send"); they are the detail.
  if (error instanceof ApiFailure && error.issues.length) lines.push(...error.issues.map((issue) => issue.message));
  const action = errorAction(plain.action, { provider, retry });
  // "Sending the reply: the reply may or may not have been sent"; provider names keep their capital.
  const title = /^(Gmail|Outlook)\b/.test(plain.title) ? plain.title : `${plain.title.charAt(0).toLowerCase()}${plain.title.slice(1)}`;
  notice('error', `${context}: ${title}`, lines, { actions: action ? [action] : [], code });
}

const personName = (participant) => (participant ? participant.name || participant.address : 'Unknown sender');
const personLabel = (participant) => (participant?.name ? `${participant.name} <${participant.address}>` : (participant?.address ?? 'Unknown sender'));
const recordKey = (record) => `${record.type}:${record.id}`;
const cssId = (value) => value.replace(/[^A-Za-z0-9_-]/g, '_');

function avatar(name, address) {
  return h('span', { class: 'avatar', style: `background:${avatarColour(address ?? name)}`, 'aria-hidden': 'true' }, initials(name || address));
}

/** A <time> that says "5 min ago" and keeps the full date for hover and screen readers. */
function timeElement(epochMs, className) {
  const element = h(
    'time',
    { class: className, datetime: new Date(epochMs).toISOString(), title: formatDate(epochMs), 'data-epoch': epochMs },
    relativeTime(epochMs),
  );
  return element;
}

function refreshRelativeTimes() {
  for (const element of document.querySelectorAll('time[data-epoch]')) element.textContent = relativeTime(Number(element.dataset.epoch));
}

// ---------------------------------------------------------------------------------------------
// Connections

/** After the address of an organization's mailbox on a thread row: whose mail it is. */
const MAILBOX_KINDS = { shared: ' · shared mailbox', user: ' · organization' };
const HEALTH_NAMES = { healthy: 'Healthy', degraded: 'Degraded', stalled: 'Stalled', needs_reauth: 'Needs re-auth' };

function renderConnections() {
  const list = document.getElementById('connections');
  const connected = new Set();
  // An organization's mailboxes are listed in its roll-up (org.js), not among the user's own.
  const items = state.connections
    .filter((connection) => !connection.orgId)
    .map((connection) => {
      if (connection.status !== 'disconnected') connected.add(connection.provider);
      const provider = PROVIDER_NAMES[connection.provider] ?? connection.provider;
      const backfill = connection.backfill;
      const showProgress = connection.status === 'backfilling' || backfill.state === 'running' || backfill.state === 'pending';
      const progressId = `backfill-${cssId(connection.id)}`;
      const progressText = backfill.estimatedTotal !== null ? `${backfill.done} of ${backfill.estimatedTotal}` : `${backfill.done} so far`;
      const verdict = connection.health.verdict;
      const disconnect = h(
        'button',
        { type: 'button', class: 'button subtle', 'data-action': 'disconnect', 'aria-label': `Disconnect ${provider} ${connection.accountEmail}` },
        'Disconnect',
      );
      disconnect.addEventListener('click', () => confirmDisconnect(item, connection));
      const details = h(
        'button',
        {
          type: 'button',
          class: 'button subtle',
          'data-action': 'health',
          'aria-haspopup': 'dialog',
          'aria-label': `Mailbox health: ${provider} ${connection.accountEmail}`,
        },
        'Health',
      );
      details.addEventListener('click', () => openHealthDrawer(connection.id, details));
      const reconnect =
        connection.status === 'needs_reauth'
          ? h('button', { type: 'button', class: 'button primary', onclick: () => connect(connection.provider) }, `Reconnect ${provider}`)
          : null;
      const item = h(
        'li',
        { class: 'connection', 'data-connection-id': connection.id, 'data-provider': connection.provider, 'data-status': connection.status },
        h('span', { class: 'connection-provider' }, provider),
        h('span', { class: 'connection-account', title: connection.accountEmail }, connection.accountEmail),
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
        // The verdict adds news only when it differs from the status ("Live" but stalled).
        verdict && verdict !== 'healthy' && verdict !== connection.status
          ? h('span', { class: `health health-${verdict}`, 'data-testid': 'connection-health' }, HEALTH_NAMES[verdict] ?? verdict)
          : null,
        reconnect,
        details,
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
  if (drawer.connectionId) void renderHealthDrawer();
}

/** "Gmail needs you to sign in again", in words, with the Reconnect button. */
function needsReauthNotice(provider, account) {
  const plain = plainError('needs_reauth', { provider: PROVIDER_NAMES[provider] ?? provider, account });
  notice('error', plain.title, [plain.sentence], { actions: [errorAction('reconnect', { provider })], code: 'needs_reauth' });
}

const connectionLoads = loadSequence();

async function loadConnections() {
  const isNewest = connectionLoads.begin();
  const { connections } = await api('/connections');
  // The newest load renders, then loads the exclusions and organizations itself.
  if (!isNewest()) return;
  state.connections = connections;
  renderConnections();
  await Promise.all([loadExclusions(), organizations?.refresh()]);
}

async function connect(provider) {
  try {
    const returnHash = /^#\/[a-z_]+\/[^/]+$/.test(window.location.hash) ? window.location.hash : undefined;
    const { url } = await api(`/connect/${provider}`, { method: 'POST', body: returnHash ? { returnHash } : {} });
    // Which provider the consent page is for, so an error on the way back can name it. Only
    // the provider's id: nothing about mail is ever kept in browser storage.
    sessionStorage.setItem('threadlink-connecting', provider);
    // The provider's consent page; its callback brings the browser back here.
    window.location.assign(url);
  } catch (error) {
    showError(error, `Connecting ${PROVIDER_NAMES[provider]}`, { provider, retry: () => connect(provider) });
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
    if (drawer.connectionId === connection.id) closeHealthDrawer();
    await loadConnections();
    await refreshTimeline();
  } catch (error) {
    button.disabled = false;
    showError(error, `Disconnecting ${PROVIDER_NAMES[connection.provider]}`, { provider: connection.provider });
  }
}

// ---------------------------------------------------------------------------------------------
// Health drawer: one mailbox's sync health in plain words, with the fix for its state

const drawer = { connectionId: null, opener: null };

/** What the verdict means for the user, and what fixes it. */
function healthStory(report) {
  const provider = PROVIDER_NAMES[report.provider] ?? report.provider;
  if (report.status === 'needs_reauth' || report.verdict === 'needs_reauth') {
    const plain = plainError(report.lastErrorCode === 'INSUFFICIENT_SCOPE' ? 'INSUFFICIENT_SCOPE' : 'AUTH_REVOKED', { provider, account: report.accountEmail });
    return { headline: plain.title, sentence: plain.sentence, fix: 'Reconnect: sign in to the mailbox again. Nothing is lost.', action: 'reconnect' };
  }
  if (report.verdict === 'stalled') {
    return {
      headline: 'New mail is not arriving',
      sentence: `${provider} has not told us about new mail for a while and no check has succeeded, so mail sent to ${report.accountEmail} may be missing here.`,
      fix: 'Check for mail now. If it stays stalled, disconnect the mailbox and connect it again.',
      action: 'sync',
    };
  }
  if (report.verdict === 'degraded') {
    return {
      headline: 'Syncing is having trouble',
      sentence: `The last ${report.consecutiveErrors} attempts to read ${report.accountEmail} failed${report.lastErrorCode ? ` (${plainError(report.lastErrorCode, { provider }).title.toLowerCase()})` : ''}. New mail may arrive late.`,
      fix: 'threadlink keeps retrying on its own. If this lasts more than an hour, check for mail now or reconnect.',
      action: 'sync',
    };
  }
  if (report.status === 'backfilling' || report.backfill.state === 'running' || report.backfill.state === 'pending') {
    return {
      headline: 'Importing older mail',
      sentence: `New mail arrives in real time; older mail from ${report.accountEmail} is being imported in the background.`,
      fix: 'Nothing to do. Records fill in as the import goes.',
      action: null,
    };
  }
  return {
    headline: 'Mail arrives in real time',
    sentence: `${provider} tells us about new mail to ${report.accountEmail} as it arrives.`,
    fix: 'Nothing to do.',
    action: null,
  };
}

async function openHealthDrawer(connectionId, opener) {
  drawer.connectionId = connectionId;
  drawer.opener = opener;
  const panel = document.getElementById('health-drawer');
  panel.hidden = false;
  document.getElementById('drawer-backdrop').hidden = false;
  // A modal drawer: the page behind it is inert, so Tab and screen readers stay in the drawer.
  for (const element of pageBehindDrawer()) element.inert = true;
  await renderHealthDrawer();
  panel.querySelector('.drawer-close').focus();
}

function closeHealthDrawer() {
  if (!drawer.connectionId) return;
  drawer.connectionId = null;
  document.getElementById('health-drawer').hidden = true;
  document.getElementById('drawer-backdrop').hidden = true;
  for (const element of pageBehindDrawer()) element.inert = false;
  if (drawer.opener?.isConnected) drawer.opener.focus();
  drawer.opener = null;
}

const pageBehindDrawer = () => document.querySelectorAll('body > .skip-link, body > header, body > .notices, body > .layout, body > footer');

const drawerLoads = loadSequence();

async function renderHealthDrawer() {
  const connectionId = drawer.connectionId;
  const isNewest = drawerLoads.begin();
  // Closed (or showing another mailbox) since, or a later report is on its way: this one is stale.
  const current = () => isNewest() && drawer.connectionId === connectionId;
  const content = document.getElementById('health-content');
  let report;
  try {
    report = await api(`/connections/${encodeURIComponent(connectionId)}/health`);
  } catch (error) {
    if (!current()) return;
    const plain = plainError(error.code);
    content.replaceChildren(h('p', { class: 'error' }, `${plain.title}. ${plain.sentence}`));
    return;
  }
  if (!current()) return;
  const provider = PROVIDER_NAMES[report.provider] ?? report.provider;
  const story = healthStory(report);
  document.getElementById('health-title').textContent = `${provider} · ${report.accountEmail}`;
  const facts = [];
  const fact = (term, value) => facts.push(h('dt', {}, term), h('dd', {}, value));
  fact('Status', STATUS_NAMES[report.status] ?? report.status);
  fact('Verdict', HEALTH_NAMES[report.verdict] ?? report.verdict);
  fact('Last push', report.lastPushAt ? timeElement(report.lastPushAt) : 'none yet');
  fact('Last sync', report.lastSyncAt ? timeElement(report.lastSyncAt) : 'none yet');
  fact('Lag', report.syncLagMs > 0 ? `${duration(report.syncLagMs)} behind` : 'caught up');
  const backfill = report.backfill;
  const backfillText =
    backfill.state === 'done'
      ? `Done: ${backfill.done} messages`
      : backfill.estimatedTotal !== null
        ? `${backfill.done} of ${backfill.estimatedTotal} messages${backfill.etaMs ? `, about ${duration(backfill.etaMs)} left` : ''}`
        : `${backfill.done} messages so far`;
  fact(
    'Older mail',
    h(
      'span',
      { class: 'drawer-backfill' },
      backfill.state !== 'done' && backfill.estimatedTotal !== null
        ? h('progress', {
            max: Math.max(backfill.estimatedTotal, 1),
            value: Math.min(backfill.done, backfill.estimatedTotal),
            'aria-label': 'Older mail imported',
          })
        : null,
      h('span', { 'data-testid': 'backfill-summary' }, backfillText),
    ),
  );
  if (report.subscriptionExpiresAt)
    fact(
      'Push channel',
      h(
        'span',
        {},
        'renewed automatically before it expires on ',
        h('time', { datetime: new Date(report.subscriptionExpiresAt).toISOString() }, formatDate(report.subscriptionExpiresAt)),
      ),
    );
  const actions = [];
  if (story.action === 'reconnect')
    actions.push(h('button', { type: 'button', class: 'button primary', onclick: () => connect(report.provider) }, `Reconnect ${provider}`));
  if (story.action === 'sync')
    actions.push(
      h('button', { type: 'button', class: 'button primary', onclick: (event) => syncNow(connectionId, event.currentTarget) }, 'Check for mail now'),
    );
  // A live refresh re-renders the drawer; whoever was on its button stays on it.
  const focused = content.contains(document.activeElement) ? document.activeElement.textContent : null;
  content.replaceChildren(
    h(
      'div',
      { class: `health-verdict verdict-${report.verdict}`, 'data-verdict': report.verdict },
      h('p', { class: 'health-headline' }, story.headline),
      h('p', {}, story.sentence),
      h('p', { class: 'health-fix' }, h('strong', {}, 'What to do: '), story.fix),
      actions.length ? h('div', { class: 'notice-actions' }, actions) : null,
    ),
    h('dl', { class: 'facts' }, facts),
  );
  if (focused) [...content.querySelectorAll('button')].find((button) => button.textContent === focused)?.focus();
}

async function syncNow(connectionId, button) {
  button.disabled = true;
  try {
    await api(`/connections/${encodeURIComponent(connectionId)}/sync`, { method: 'POST' });
    announce('Checking for mail now.');
    await loadConnections();
  } catch (error) {
    showError(error, 'Checking for mail', { retry: () => syncNow(connectionId, button) });
  } finally {
    button.disabled = false;
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
        h(
          'span',
          { class: 'record-description' },
          record.type === 'client' || record.type === 'contact' ? record.description : `${TYPE_NAMES[record.type]} · ${record.description}`,
        ),
      ),
    );
  const isPerson = (record) => record.type === 'client' || record.type === 'contact';
  document.getElementById('clients-list').replaceChildren(...state.records.filter(isPerson).map(make));
  document.getElementById('jobs-list').replaceChildren(...state.records.filter((record) => !isPerson(record)).map(make));
}

function markCurrentRecord() {
  for (const link of document.querySelectorAll('.record-list a')) {
    if (state.current && link.dataset.record === recordKey(state.current)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function renderRecordDetails(record) {
  document.getElementById('record-title').textContent = record.label;
  document.getElementById('record-kind').textContent =
    record.type === 'client' ? `Client · ${record.description}` : `${TYPE_NAMES[record.type]} · ${record.description}`;
  const facts = [];
  const fact = (term, ...values) => facts.push(h('dt', {}, term), ...values.map((value) => h('dd', {}, value)));
  if (record.contacts.length)
    fact(
      'Contacts',
      ...record.contacts.map((contact) =>
        h('span', {}, h('span', { class: 'contact-name' }, contact.name), h('span', { class: 'contact-address' }, contact.email)),
      ),
    );
  if (record.domains.length) fact('Mail domains', ...record.domains);
  if (record.reference) fact('Reference', record.reference);
  if (record.client) {
    fact('Client', h('a', { href: `#/client/${encodeURIComponent(record.client.id)}` }, record.client.label));
  }
  document.getElementById('record-facts').replaceChildren(...facts);
  document.getElementById('mail-heading').textContent =
    record.type === 'client' || record.type === 'contact' ? `Mail with ${record.label}` : `Mail matched to ${record.label}`;
  document.getElementById('mail-explainer').textContent =
    record.type === 'contact'
      ? 'Every conversation with this person, whole threads.'
      : record.type === 'client'
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
  state.timelineShown = false;
  threadNodes.clear();
  messageNodes.clear();
  closePopover({ restoreFocus: false });
  document.getElementById('threads').replaceChildren();
  markCurrentRecord();
  renderRecordDetails(record);
  document.title = `${record.label} — Acme CRM`;
  await refreshTimeline();
}

// ---------------------------------------------------------------------------------------------
// Timeline

async function fetchTimeline(after) {
  const { type, id } = state.current;
  const query = after ? `?after=${encodeURIComponent(after)}` : '';
  return api(`/records/${encodeURIComponent(type)}/${encodeURIComponent(id)}/timeline${query}`);
}

const timelineLoads = loadSequence();

/**
 * Reloads the first page; threads from older pages already shown stay below it. A record switch
 * begins a load too, so a slow answer for the previous record is dropped like any older one.
 */
async function refreshTimeline() {
  if (!state.current) return;
  const isNewest = timelineLoads.begin();
  const container = document.getElementById('threads');
  container.setAttribute('aria-busy', 'true');
  try {
    const page = await fetchTimeline(null);
    if (!isNewest()) return;
    const fresh = new Set(page.threads.map((thread) => thread.threadId));
    state.threads = page.threads;
    state.olderThreads = state.olderThreads.filter((thread) => !fresh.has(thread.threadId));
    if (state.olderThreads.length === 0) state.next = page.next;
    // The first render of a record shows history; later ones mark what arrived live. Not the
    // record switch's own load: a live refresh begun meanwhile may have superseded it.
    renderThreads({ initial: !state.timelineShown });
    state.timelineShown = true;
  } catch (error) {
    if (isNewest()) showError(error, 'Loading mail', { retry: () => void refreshTimeline() });
  } finally {
    if (isNewest()) container.setAttribute('aria-busy', 'false');
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
    showError(error, 'Loading older mail', { retry: () => void loadOlder() });
  }
}

const threadNodes = new Map();
const messageNodes = new Map();

function renderThreads({ initial }) {
  const container = document.getElementById('threads');
  const threads = [...state.threads, ...state.olderThreads];
  const nodes = threads.map((thread) => {
    let node = threadNodes.get(thread.threadId);
    if (!node?.isConnected) {
      node = createThreadNode(thread);
      threadNodes.set(thread.threadId, node);
    }
    updateThreadNode(node, thread, { initial });
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

// A thread is a collapsed row (who, what, how many, when, which way, which mailbox) that opens
// in place, like the activity panels of CRM inboxes. The row is a real <button> inside the
// heading: Enter and Space toggle it, and screen readers hear "collapsed/expanded".
function createThreadNode(thread) {
  const id = cssId(thread.threadId);
  const row = h(
    'button',
    { type: 'button', class: 'thread-row', 'aria-expanded': 'false', 'aria-controls': `thread-body-${id}` },
    h('span', { class: 'avatars' }),
    h(
      'span',
      { class: 'thread-summary' },
      h('span', { class: 'thread-line' }, h('span', { class: 'thread-participants' }), h('span', { class: 'thread-count' })),
      h('span', { class: 'thread-subject', id: `thread-${id}` }),
      h('span', { class: 'thread-meta' }, h('span', { class: 'direction' }), h('span', { class: 'thread-mailbox' })),
    ),
    h('span', { class: 'thread-time-slot' }),
  );
  const replyButton = h('button', { type: 'button', class: 'button', 'data-action': 'reply' }, 'Reply');
  const body = h(
    'div',
    { class: 'thread-body', id: `thread-body-${id}`, hidden: true },
    h('ol', { class: 'messages' }),
    h('div', { class: 'thread-actions' }, replyButton),
  );
  const node = h(
    'article',
    { class: 'thread', 'data-thread-id': thread.threadId, 'aria-labelledby': `thread-${id}` },
    h('h3', { class: 'thread-heading' }, row),
    body,
  );
  const form = createReplyForm(node);
  body.append(form);
  row.addEventListener('click', () => setThreadExpanded(node, row.getAttribute('aria-expanded') !== 'true'));
  replyButton.addEventListener('click', () => openReply(node));
  return node;
}

function setThreadExpanded(node, expanded) {
  node.querySelector('.thread-row').setAttribute('aria-expanded', String(expanded));
  node.querySelector('.thread-body').hidden = !expanded;
  node.classList.toggle('is-expanded', expanded);
}

/** Names for the thread's addresses, from the messages' headers ("Bianca Ortiz", else the address). */
function participantNames(thread) {
  const names = new Map();
  for (const message of thread.messages) {
    for (const participant of [message.from, ...message.to, ...message.cc]) {
      if (participant?.name && !names.has(participant.address)) names.set(participant.address, participant.name);
    }
  }
  const own = new Set(state.connections.map((connection) => connection.accountEmail.toLowerCase()));
  return thread.participants.map((address) => ({ address, name: own.has(address.toLowerCase()) ? 'me' : (names.get(address) ?? address) }));
}

function updateThreadNode(node, thread, { initial }) {
  const newest = thread.messages[thread.messages.length - 1];
  const people = participantNames(thread);
  // Others first: the row says who the conversation is with.
  const others = people.filter((person) => person.name !== 'me');
  const shown = (others.length ? others : people).slice(0, 3);
  node.querySelector('.avatars').replaceChildren(...shown.map((person) => avatar(person.name, person.address)));
  node.querySelector('.thread-participants').textContent = people.map((person) => person.name).join(', ');
  node.querySelector('.thread-count').textContent = thread.messageCount > 1 ? String(thread.messageCount) : '';
  node.querySelector('.thread-count').setAttribute('aria-label', `${thread.messageCount} message${thread.messageCount === 1 ? '' : 's'}`);
  node.querySelector('.thread-subject').textContent = thread.subject || '(no subject)';
  const direction = node.querySelector('.direction');
  direction.textContent = newest?.direction === 'outbound' ? '↗ Sent' : '↙ Received';
  direction.className = `direction direction-${newest?.direction ?? 'inbound'}`;
  const connection = state.connections.find((candidate) => candidate.id === newest?.connectionId);
  node.querySelector('.thread-mailbox').textContent =
    `${PROVIDER_NAMES[newest?.provider] ?? newest?.provider ?? ''}${connection ? ` · ${connection.accountEmail}${MAILBOX_KINDS[connection.mailboxKind] ?? ''}` : ''}`;
  node.querySelector('.thread-time-slot').replaceChildren(timeElement(thread.lastActivityAt, 'thread-time'));

  const list = node.querySelector('.messages');
  let fresh = false;
  const items = thread.messages.map((message) => {
    let item = messageNodes.get(message.id);
    if (!item || (item.isConnected && item.closest('.thread') !== node)) {
      item = createMessageNode(message);
      messageNodes.set(message.id, item);
      // Highlight mail that just arrived, not history a back-fill brings in.
      if (!initial && !state.seen.has(message.id) && Date.now() - message.receivedAt < 10 * 60_000) {
        item.classList.add('is-new');
        fresh = true;
        setTimeout(() => item.classList.remove('is-new'), 4000);
      }
    }
    updateMessageNode(item, message);
    state.seen.add(message.id);
    return item;
  });
  syncChildren(list, items);
  if (fresh) {
    node.classList.add('is-new');
    setTimeout(() => node.classList.remove('is-new'), 4000);
  }
  // Replies answer the newest message someone else sent (or the newest one when all are ours).
  const target = [...thread.messages].reverse().find((message) => message.direction === 'inbound') ?? newest;
  const form = node.querySelector('.reply-form');
  form.dataset.messageId = target?.id ?? '';
  form.querySelector('.reply-label').textContent = `Reply to ${personName(target?.direction === 'inbound' ? target.from : target?.to?.[0])}`;
}

function createMessageNode(message) {
  const bodyId = `body-${cssId(message.id)}`;
  const toggle = h('button', { type: 'button', class: 'button subtle message-toggle', 'aria-expanded': 'false', 'aria-controls': bodyId }, 'Show message');
  const body = h('div', { class: 'message-body', id: bodyId, hidden: true });
  toggle.addEventListener('click', () => toggleBody(message.id, toggle, body));
  return h(
    'li',
    { class: 'message', 'data-message-id': message.id, 'data-connection-id': message.connectionId },
    h('span', { class: 'message-avatar' }),
    h(
      'div',
      { class: 'message-main' },
      h('div', { class: 'message-header' }, h('span', { class: 'message-from' }), h('span', { class: 'direction' }), h('span', { class: 'message-date-slot' })),
      h('p', { class: 'message-recipients muted' }),
      h(
        'div',
        { class: 'message-tags' },
        h('span', { class: 'match-slot' }),
        h('ul', { class: 'label-chips', 'aria-label': 'Folder and labels' }),
        h('span', { class: 'attachments muted' }),
      ),
      toggle,
      body,
    ),
  );
}

function updateMessageNode(item, message) {
  item.querySelector('.message-avatar').replaceChildren(avatar(message.from?.name, message.from?.address));
  const from = item.querySelector('.message-from');
  from.textContent = personName(message.from);
  from.title = personLabel(message.from);
  // The address stays in the text for search and screen readers, after the name.
  if (message.from?.name) from.append(h('span', { class: 'message-address' }, ` <${message.from.address}>`));
  const direction = item.querySelector('.direction');
  direction.textContent = message.direction === 'outbound' ? 'Sent' : 'Received';
  direction.className = `direction direction-${message.direction}`;
  item.querySelector('.message-date-slot').replaceChildren(timeElement(message.receivedAt, 'message-date muted'));
  item.querySelector('.message-recipients').textContent =
    `To ${message.to.map(personName).join(', ') || '—'}${message.cc.length ? ` · Cc ${message.cc.map(personName).join(', ')}` : ''} · ${PROVIDER_NAMES[message.provider] ?? message.provider}`;
  // Updated in place: a live refresh must not close the explain popover the user is reading.
  const slot = item.querySelector('.match-slot');
  if (!slot.firstElementChild) slot.append(createMatchChip(item));
  item.message = message;
  updateMatchChip(slot.firstElementChild, message);
  // The folder / labels by their current names (threadlink resolves ids on every read, so a rename shows here).
  const chips = item.querySelector('.label-chips');
  chips.hidden = message.labels.length === 0;
  chips.replaceChildren(
    ...message.labels.map((label) =>
      h('li', { class: `label-chip label-${label.kind}`, title: label.kind === 'system' ? `${label.name} (built in)` : label.name }, label.name),
    ),
  );
  const attachments = item.querySelector('.attachments');
  attachments.hidden = message.attachments.length === 0;
  // Each file opens from the provider on click (a download; nothing is kept here); without an id
  // (metadata-only mailboxes) the name is all there is.
  attachments.replaceChildren(
    ...(message.attachments.length ? ['📎 '] : []),
    ...message.attachments.flatMap((attachment, index) => [
      ...(index > 0 ? [', '] : []),
      attachment.id
        ? h(
            'a',
            {
              class: 'attachment-link',
              href: `/api/messages/${encodeURIComponent(message.id)}/attachments/${encodeURIComponent(attachment.id)}`,
              download: attachment.name,
            },
            attachment.name,
          )
        : attachment.name,
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Why a message is here: a compact chip, and a popover that explains it and lets the user fix it

const currentRecord = () => state.records.find((record) => state.current && recordKey(record) === recordKey(state.current));

function createMatchChip(item) {
  const chip = h('button', { type: 'button', class: 'match-chip', 'aria-haspopup': 'dialog', 'aria-expanded': 'false' });
  chip.addEventListener('click', () => (popover.chip === chip ? closePopover() : openMatchPopover(item.message, chip)));
  return chip;
}

function updateMatchChip(chip, message) {
  const record = currentRecord();
  const label = message.match
    ? `${message.match.label} · ${RULE_NAMES[message.match.rule] ?? message.match.rule}`
    : message.links.length
      ? `Linked to ${message.links.length === 1 ? message.links[0].label : `${message.links.length} records`}`
      : 'In this conversation';
  chip.textContent = label;
  chip.classList.toggle('is-manual', Boolean(message.match?.manual));
  chip.setAttribute('aria-label', `Why this message is on ${record?.label ?? 'this record'}: ${label}`);
}

const popover = { element: null, chip: null };

function closePopover({ restoreFocus = true } = {}) {
  if (!popover.element) return;
  popover.element.remove();
  popover.chip?.setAttribute('aria-expanded', 'false');
  if (restoreFocus && popover.chip?.isConnected) popover.chip.focus();
  popover.element = null;
  popover.chip = null;
}

async function openMatchPopover(message, chip) {
  closePopover({ restoreFocus: false });
  const record = currentRecord();
  const titleId = `popover-title-${cssId(message.id)}`;
  const content = h('div', { class: 'popover-content' }, h('p', { class: 'muted', role: 'status' }, 'Loading why it is here…'));
  const closeButton = h('button', { type: 'button', class: 'button subtle popover-close', 'aria-label': 'Close' }, '×');
  closeButton.addEventListener('click', () => closePopover());
  const element = h(
    'div',
    { class: 'popover', role: 'dialog', 'aria-labelledby': titleId },
    h('div', { class: 'popover-header' }, h('h4', { id: titleId }, `Why it is on ${record?.label ?? 'this record'}`), closeButton),
    content,
  );
  chip.after(element);
  chip.setAttribute('aria-expanded', 'true');
  popover.element = element;
  popover.chip = chip;
  closeButton.focus();

  let links;
  try {
    ({ links } = await api(`/messages/${encodeURIComponent(message.id)}/links`));
  } catch (error) {
    const plain = plainError(error.code);
    content.replaceChildren(h('p', { class: 'error' }, `${plain.title}. ${plain.sentence}`));
    return;
  }
  if (popover.element !== element) return;
  const here = links.find((link) => record && link.type === record.type && link.id === record.id && !link.suppressed);
  const children = [];
  if (here) {
    children.push(
      h('p', { class: 'popover-reason' }, here.manual ? `You linked it by hand (${here.reason}).` : `${capitalise(here.reason)}: ${here.ruleSentence}.`),
      h('p', { class: 'muted' }, here.manual ? 'Manual links always win over automatic matching.' : `Confidence ${Math.round(here.confidence * 100)}%.`),
    );
  } else if (record?.type === 'client') {
    children.push(h('p', { class: 'popover-reason' }, `It is part of a conversation with ${record.label}.`));
  }
  const others = links.filter((link) => link !== here);
  if (others.length) {
    children.push(
      h('p', { class: 'popover-subheading' }, 'Also'),
      h(
        'ul',
        { class: 'popover-links' },
        others.map((link) =>
          h(
            'li',
            {},
            h('a', { href: `#/${link.type}/${encodeURIComponent(link.id)}` }, link.label),
            link.suppressed ? ' — unlinked by you' : ` — ${link.ruleSentence}`,
          ),
        ),
      ),
    );
  }
  const actions = h('div', { class: 'popover-actions' });
  if (here && record) {
    actions.append(
      h(
        'button',
        { type: 'button', class: 'button danger', 'data-action': 'unlink', onclick: (event) => unlinkMessage(message, record, event.currentTarget) },
        `Unlink from ${record.label}`,
      ),
    );
  }
  if (record) {
    actions.append(
      h(
        'button',
        { type: 'button', class: 'button', 'data-action': 'rematch', onclick: (event) => rematchRecord(record, event.currentTarget) },
        `Re-run matching for ${record.label}`,
      ),
    );
  }
  const selectId = `link-target-${cssId(message.id)}`;
  const linked = new Set(links.filter((link) => !link.suppressed).map((link) => `${link.type}:${link.id}`));
  const choices = state.records.filter((candidate) => !linked.has(recordKey(candidate)));
  const linkForm = choices.length
    ? h(
        'form',
        { class: 'popover-link-form' },
        h('label', { for: selectId }, 'Link to another record'),
        h(
          'div',
          { class: 'inline-field' },
          h(
            'select',
            { id: selectId, name: 'record' },
            choices.map((candidate) => h('option', { value: recordKey(candidate) }, `${candidate.label} (${TYPE_NAMES[candidate.type]})`)),
          ),
          h('button', { type: 'submit', class: 'button' }, 'Link'),
        ),
      )
    : null;
  linkForm?.addEventListener('submit', (event) => {
    event.preventDefault();
    const [type, ...rest] = linkForm.querySelector('select').value.split(':');
    void linkMessage(message, { type, id: rest.join(':') }, linkForm.querySelector('button'));
  });
  content.replaceChildren(...children, actions, linkForm ?? '');
}

const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);

async function unlinkMessage(message, record, button) {
  button.disabled = true;
  try {
    await api(`/messages/${encodeURIComponent(message.id)}/unlink`, { method: 'POST', body: { type: record.type, id: record.id } });
    closePopover({ restoreFocus: false });
    notice(
      'success',
      `Unlinked from ${record.label}`,
      [`“${message.subject || '(no subject)'}” no longer shows on ${record.label}. Automatic matching will not bring it back.`],
      {
        actions: [{ label: 'Undo', run: () => void resetLink(message, record) }],
      },
    );
    await refreshTimeline();
    document.getElementById('mail-panel').focus();
  } catch (error) {
    button.disabled = false;
    showError(error, 'Unlinking', { retry: () => unlinkMessage(message, record, button) });
  }
}

async function resetLink(message, record) {
  try {
    await api(`/messages/${encodeURIComponent(message.id)}/reset`, { method: 'POST', body: { type: record.type, id: record.id } });
    announce(`Undone: automatic matching decides again for ${record.label}.`);
    await api(`/records/${encodeURIComponent(record.type)}/${encodeURIComponent(record.id)}/rematch`, { method: 'POST' });
    await refreshTimeline();
  } catch (error) {
    showError(error, 'Undoing the unlink');
  }
}

async function linkMessage(message, target, button) {
  button.disabled = true;
  const label = state.records.find((candidate) => candidate.type === target.type && candidate.id === target.id)?.label ?? target.id;
  try {
    await api(`/messages/${encodeURIComponent(message.id)}/link`, { method: 'POST', body: target });
    closePopover();
    notice('success', `Linked to ${label}`, [`“${message.subject || '(no subject)'}” and the rest of its thread now show on ${label}.`], {
      actions: [{ label: `Open ${label}`, run: () => window.location.assign(`#/${target.type}/${encodeURIComponent(target.id)}`) }],
    });
    await refreshTimeline();
  } catch (error) {
    button.disabled = false;
    showError(error, 'Linking', { retry: () => linkMessage(message, target, button) });
  }
}

async function rematchRecord(record, button) {
  if (button) button.disabled = true;
  try {
    const result = await api(`/records/${encodeURIComponent(record.type)}/${encodeURIComponent(record.id)}/rematch`, { method: 'POST' });
    closePopover({ restoreFocus: false });
    notice('success', `Matching re-run for ${record.label}`, [
      result.linked === 0 ? 'No new messages matched.' : `${result.linked} message${result.linked === 1 ? '' : 's'} matched.`,
      'Messages you unlinked stay unlinked.',
    ]);
    await refreshTimeline();
  } catch (error) {
    showError(error, 'Re-running matching', { retry: () => rematchRecord(record) });
  } finally {
    if (button) button.disabled = false;
  }
}

// The body lives in an iframe with an empty sandbox: no scripts, no forms, no plugins, no
// top navigation, a unique origin. Its own CSP (on top of the page's, which srcdoc inherits)
// allows inline styles and data: images only — nothing in a message can phone home.
const BODY_DOCUMENT_HEAD =
  '<!doctype html><html><head><meta charset="utf-8">' +
  '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">' +
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
      children.push(
        h('iframe', { class: 'body-frame', sandbox: '', title: `Message body: ${subject}`, srcdoc: `${BODY_DOCUMENT_HEAD}${result.html}</body></html>` }),
      );
    } else {
      children.push(h('pre', { class: 'body-text' }, result.text ?? '(empty message)'));
    }
    if (result.attachments?.length) {
      children.push(
        h(
          'p',
          { class: 'muted' },
          `Attachments: ${result.attachments.map((attachment) => `${attachment.name}${attachment.size ? ` (${Math.ceil(attachment.size / 1024)} KB)` : ''}`).join(', ')}`,
        ),
      );
    }
    body.replaceChildren(...children);
    body.dataset.loaded = 'true';
  } catch (error) {
    body.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not fetch this message: ${error.message}`));
  }
}

// Reply: opens on demand under the thread, sends from the user's mailbox in the same thread.
function openReply(node) {
  setThreadExpanded(node, true);
  const form = node.querySelector('.reply-form');
  form.hidden = false;
  node.querySelector('[data-action="reply"]').hidden = true;
  form.querySelector('textarea').focus();
}

function closeReply(node) {
  node.querySelector('.reply-form').hidden = true;
  const button = node.querySelector('[data-action="reply"]');
  button.hidden = false;
  button.focus();
}

function createReplyForm(node) {
  const id = `reply-${Math.random().toString(36).slice(2)}`;
  const textarea = h('textarea', { id, name: 'text', rows: 4, required: true, class: 'reply-text' });
  const send = h('button', { type: 'submit', class: 'button primary' }, 'Send reply');
  const cancel = h('button', { type: 'button', class: 'button subtle' }, 'Cancel');
  const draft = h('button', { type: 'button', class: 'button', 'data-action': 'draft' }, 'Draft a reply');
  const form = h(
    'form',
    { class: 'reply-form', hidden: true },
    h('label', { for: id, class: 'reply-label' }, 'Reply'),
    textarea,
    h('div', { class: 'form-actions' }, send, draft, cancel),
  );
  cancel.addEventListener('click', () => closeReply(node));
  draft.addEventListener('click', () => void draftInto(textarea, form.dataset.messageId, draft, { api, announce, showError }));
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
      closeReply(node);
      await refreshTimeline();
    } catch (error) {
      // The text stays in the box: after SEND_UNCONFIRMED the user checks Sent before resending.
      const provider = state.connections.find((connection) => connection.id === messageNodes.get(form.dataset.messageId)?.dataset.connectionId)?.provider;
      showError(error, 'Sending the reply', { provider });
    } finally {
      send.disabled = false;
      send.textContent = 'Send reply';
    }
  });
  return form;
}

// "New email" on every record: a new conversation from the user's mailbox, linked to the record
// (tl.messages.send), so it shows here at once and the client's answers follow it.
function setUpComposer() {
  const button = document.getElementById('new-email');
  const composer = document.getElementById('composer');
  const close = () => {
    composer.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    button.focus();
  };
  button.addEventListener('click', () => {
    if (!composer.hidden) return close();
    const record = currentRecord();
    // A job's people are its client's contacts.
    const client = record?.client ? state.records.find((candidate) => candidate.type === 'client' && candidate.id === record.client.id) : null;
    const contacts = record?.contacts?.length ? record.contacts : (client?.contacts ?? []);
    document.getElementById('composer-to').value = contacts.map((contact) => contact.email).join(', ');
    document.getElementById('composer-subject').value = record && record.type !== 'client' ? `${record.label} – ` : '';
    composer.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.getElementById('composer-to').focus();
  });
  document.getElementById('composer-close').addEventListener('click', close);
  const send = document.getElementById('composer-send');
  composer.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!state.current) return;
    const to = document.getElementById('composer-to').value;
    const subject = document.getElementById('composer-subject').value;
    const textarea = document.getElementById('composer-text');
    send.disabled = true;
    send.textContent = 'Sending…';
    try {
      const { type, id } = state.current;
      await api(`/records/${encodeURIComponent(type)}/${encodeURIComponent(id)}/compose`, { method: 'POST', body: { to, subject, text: textarea.value } });
      textarea.value = '';
      announce('Email sent.');
      close();
      await refreshTimeline();
    } catch (error) {
      // The text stays in the box: after SEND_UNCONFIRMED the user checks Sent before resending.
      showError(error, 'Sending the email', { provider: state.connections[0]?.provider });
    } finally {
      send.disabled = false;
      send.textContent = 'Send';
    }
  });
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

/** "Your organization" (org.js), set up in start(). */
let organizations = null;

/** "People you email who are not in the CRM" (assist.js), set up in start(). */
let people = null;
let peopleTimer = null;

function schedulePeople() {
  clearTimeout(peopleTimer);
  peopleTimer = setTimeout(() => void people?.refresh(), 500);
}

function scheduleConnections() {
  if (connectionsTimer) return;
  connectionsTimer = setTimeout(() => {
    connectionsTimer = null;
    loadConnections().catch((error) => showError(error, 'Loading mailboxes', { retry: scheduleConnections }));
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
  // New mail can bring someone new to the list; the event itself carries no content.
  for (const name of ['contact.suggested', 'backfill.done', 'message.matched']) events.addEventListener(name, () => schedulePeople());
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
    const connection = state.connections.find((candidate) => candidate.id === data.connectionId);
    needsReauthNotice(data.provider, connection?.accountEmail);
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
// Keep mail out: the user's exclusions (threadlink's ingestion policy on their own mailboxes)

function renderExclusions(rules) {
  const list = document.getElementById('exclusions');
  list.replaceChildren(
    ...rules.map((rule) => {
      const remove = h('button', { type: 'button', class: 'button subtle', 'aria-label': `Remove ${rule}` }, 'Remove');
      remove.addEventListener('click', () => void removeExclusion(rule, remove));
      return h('li', { 'data-rule': rule }, h('span', {}, rule), remove);
    }),
  );
}

const exclusionLoads = loadSequence();

async function loadExclusions() {
  const panel = document.getElementById('exclusions-panel');
  const isNewest = exclusionLoads.begin();
  const { exclude, mailboxes } = await api('/policy');
  if (!isNewest()) return;
  panel.hidden = mailboxes === 0;
  renderExclusions(exclude);
}

async function addExclusion(form, button) {
  const input = form.elements.rule;
  const report = document.getElementById('exclusion-report');
  button.disabled = true;
  try {
    const result = await api('/policy/exclusions', { method: 'POST', body: { rule: input.value } });
    // The change's own answer is the newest list: a load begun before it landed may predate it.
    exclusionLoads.begin();
    renderExclusions(result.exclude);
    const { messages, links } = result.purged;
    report.textContent =
      messages === 0
        ? `Excluded ${result.rule}. Nothing stored matched it; new mail from it will not be stored.`
        : `Excluded ${result.rule}. Removed ${messages} stored ${messages === 1 ? 'message' : 'messages'} and ${links} record ${links === 1 ? 'link' : 'links'} from the CRM.`;
    input.value = '';
    await refreshTimeline();
  } catch (error) {
    showError(error, 'Excluding mail');
    input.focus();
  } finally {
    button.disabled = false;
  }
}

async function removeExclusion(rule, button) {
  const report = document.getElementById('exclusion-report');
  button.disabled = true;
  try {
    const result = await api('/policy/exclusions/remove', { method: 'POST', body: { rule } });
    exclusionLoads.begin();
    renderExclusions(result.exclude);
    report.textContent = `${result.rule} is no longer excluded. Its mail comes back as the mailboxes re-sync.`;
    document.getElementById('exclusion-rule').focus();
  } catch (error) {
    button.disabled = false;
    showError(error, 'Removing the exclusion');
  }
}

function setUpExclusions() {
  const form = document.getElementById('exclusion-form');
  const button = document.getElementById('exclusion-add');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void addExclusion(form, button);
  });
}

// ---------------------------------------------------------------------------------------------
// Demo controls

function setUpDemo(demo) {
  const panel = document.getElementById('demo-panel');
  panel.hidden = false;
  document
    .getElementById('demo-senders')
    .replaceChildren(...demo.senders.map((sender) => h('option', { value: sender.email }, `${sender.name} (${sender.client})`)));
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
  document.getElementById('rematch').addEventListener('click', (event) => {
    const record = currentRecord();
    if (record) void rematchRecord(record, event.currentTarget);
  });
  document.getElementById('drawer-close').addEventListener('click', () => closeHealthDrawer());
  document.getElementById('drawer-backdrop').addEventListener('click', () => closeHealthDrawer());
  setUpComposer();
  setUpExclusions();
  // Escape closes what is on top: the explain popover, then the health drawer.
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    if (popover.element) closePopover();
    else if (drawer.connectionId) closeHealthDrawer();
  });
  // A click outside the popover closes it (its own chip toggles it).
  document.addEventListener('click', (event) => {
    if (popover.element && !popover.element.contains(event.target) && event.target !== popover.chip) closePopover({ restoreFocus: false });
  });
  setInterval(refreshRelativeTimes, 30_000);

  listen();
  const [session, { records }] = await Promise.all([api('/session'), api('/records')]);
  state.session = session;
  state.records = records;
  const badge = document.getElementById('mode-badge');
  badge.hidden = false;
  const providerList = session.providers.map((provider) => PROVIDER_NAMES[provider] ?? provider).join(' and ');
  badge.textContent = session.mode === 'demo' ? `Demo mode · emulated ${providerList}` : `Live ${providerList}`;
  renderRecordLists();
  people = setUpPeople({
    api,
    h,
    announce,
    showError,
    onCreated: async (record) => {
      state.records = (await api('/records')).records;
      renderRecordLists();
      window.location.hash = `#/${record.type}/${encodeURIComponent(record.id)}`;
    },
  });
  void people.refresh();
  organizations = setUpOrganizations({
    api,
    h,
    loadSequence,
    announce,
    showError,
    notice,
    onChange: async () => {
      await loadConnections();
      await refreshTimeline();
    },
  });
  organizations.show({ providers: session.providers, demoOrganizations: session.mode === 'demo' ? await api('/demo/organization') : null });
  await loadConnections();
  // A grant that died while nobody was looking (a restart, a password change) is said once, in words.
  for (const connection of state.connections.filter((candidate) => candidate.status === 'needs_reauth'))
    needsReauthNotice(connection.provider, connection.accountEmail);
  if (session.demo) {
    setUpDemo(session.demo);
    preferConnectedProvider();
  }

  // Back from the provider's consent page: say so, then tidy the address bar.
  const params = new URLSearchParams(window.location.search);
  organizations.landed(params.get('org'));
  if (params.has('connected') || params.has('error') || params.has('org')) {
    const connection = state.connections.find((candidate) => candidate.id === params.get('connected'));
    const provider = sessionStorage.getItem('threadlink-connecting');
    sessionStorage.removeItem('threadlink-connecting');
    if (connection) {
      notice('success', `${PROVIDER_NAMES[connection.provider]} connected (${connection.accountEmail})`, [
        'New mail arrives by push; older mail is being back-filled.',
      ]);
    } else if (params.has('error')) {
      const code = params.get('error');
      const known = PROVIDER_NAMES[provider] ? provider : undefined;
      const plain = plainError(code in PLAIN_ERRORS ? code : 'OAUTH_FAILED', {
        provider: PROVIDER_NAMES[known],
        account: known ? connectionFor(known)?.accountEmail : undefined,
      });
      const action = errorAction(plain.action, { provider: known });
      notice('error', plain.title, [plain.sentence], { actions: action ? [action] : [], code });
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
