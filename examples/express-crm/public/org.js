// "Your organization": connect a customer organization once (tl.org.* through
// src/routes/organizations.ts) and its roll-up health view — status, mailboxes by state, problems
// in plain words, one row per mailbox, "Sync directory now" and "Disconnect organization".
// Kept apart from app.js, which hands in its helpers (api, h, announce, showError, notice).

const PROVIDERS = { gmail: 'Google Workspace', outlook: 'Microsoft 365' };
const ORG_STATUS = { pending: 'Waiting for the admin', active: 'Active', needs_reauth: 'Needs the admin again', disconnected: 'Disconnected' };
const MAILBOX_STATUS = { connecting: 'Connecting', backfilling: 'Back-filling', live: 'Live', needs_reauth: 'Needs re-auth', disconnected: 'Disconnected' };
const KINDS = { shared: 'Shared mailbox', user: 'Person' };

/** A problem of the last directory sync, as a sentence with what to do about it. */
function problemSentence(problem) {
  if (problem.reason === 'forbidden')
    return `${problem.email} is outside what your admin lets this app read (an access policy or the delegation leaves it out). Ask the admin to include it, then sync the directory.`;
  return `${problem.email} has no mailbox in the organization's directory. A group or collaborative inbox has none of its own: choose it as a group instead, or check the address.`;
}

/** Addresses typed with commas, spaces or new lines between them. */
const addresses = (text) =>
  text
    .split(/[\s,;]+/)
    .map((part) => part.trim())
    .filter(Boolean);

/** What the admin calls the organization: its name, a Workspace's domain, or "your Microsoft 365 organization" (a tenant id means nothing to them). */
const orgName = (organization) =>
  organization.displayName ?? (organization.provider === 'outlook' ? 'Your Microsoft 365 organization' : organization.directoryId);

function countsLine(counts) {
  const parts = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${(MAILBOX_STATUS[status] ?? status).toLowerCase()}`);
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  return `${total} mailbox${total === 1 ? '' : 'es'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

function reportLines(report) {
  const lines = [];
  if (report.added.length) lines.push(`Added: ${report.added.join(', ')}.`);
  if (report.removed.length) lines.push(`Removed (their stored mail deleted): ${report.removed.join(', ')}.`);
  const problems = [...report.forbidden, ...report.notFound];
  if (problems.length) lines.push(`Could not open: ${problems.join(', ')} — see Problems.`);
  if (!lines.length) lines.push('Nothing changed.');
  return lines;
}

const HINTS = {
  gmail:
    'Your Workspace admin creates a service account, authorises its client ID for domain-wide delegation and gives you its JSON key, the domain and an admin address.',
  outlook:
    'You continue to Microsoft, where an admin of your organization approves this app once for the mailboxes below. Ask them to scope it to those mailboxes with an access policy.',
};
const GROUP_LABELS = { gmail: 'Group address', outlook: 'Group object ID' };

export function setUpOrganizations({ api, h, loadSequence, announce, showError, notice, onChange }) {
  const panel = document.getElementById('org-panel');
  const list = document.getElementById('org-list');
  const form = document.getElementById('org-form');
  const opener = document.getElementById('org-connect');
  const whoField = document.getElementById('org-who-field');
  const whoLabel = document.getElementById('org-who-label');
  const googleFields = document.getElementById('org-google-fields');
  const field = (name) => document.getElementById(name);
  /** Only the newest roll-up load renders (app.js's loadSequence). */
  const loads = loadSequence();
  /** Demo mode: what each emulated organization's admin hands over, to pre-fill the form. */
  let demo = null;

  const checked = (name, fallback) => form.querySelector(`input[name="${name}"]:checked`)?.value ?? fallback;
  const mode = () => checked('org-mode', 'all');
  const provider = () => checked('org-provider', 'gmail');
  const showWho = () => {
    whoField.hidden = mode() === 'all';
    whoLabel.textContent = mode() === 'group' ? GROUP_LABELS[provider()] : 'Their addresses';
  };
  const setMode = (value) => {
    form.querySelector(`input[name="org-mode"][value="${value}"]`).checked = true;
    showWho();
  };
  const showProvider = () => {
    const current = provider();
    // A disabled fieldset's required fields do not block the Microsoft form.
    googleFields.disabled = current !== 'gmail';
    googleFields.hidden = current !== 'gmail';
    field('org-form-hint').textContent = HINTS[current];
    field('org-submit').textContent = current === 'gmail' ? 'Connect organization' : 'Continue to Microsoft';
    const prefill = demo?.[current];
    if (prefill) {
      field('org-shared').value = prefill.shared.join(', ');
      field('org-who').value = prefill.group?.id ?? '';
      setMode(prefill.group ? 'group' : 'all');
    }
    showWho();
  };
  const toggleForm = (open) => {
    form.hidden = !open;
    opener.setAttribute('aria-expanded', String(open));
    if (open) form.querySelector('input[name="org-provider"]:checked')?.focus();
    else opener.focus();
  };
  for (const radio of form.querySelectorAll('input[name="org-mode"]')) radio.addEventListener('change', showWho);
  for (const radio of form.querySelectorAll('input[name="org-provider"]')) radio.addEventListener('change', showProvider);
  opener.addEventListener('click', () => toggleForm(form.hidden));
  field('org-cancel').addEventListener('click', () => toggleForm(false));

  const selection = () => {
    const who = addresses(field('org-who').value);
    return {
      all: mode() === 'all',
      groups: mode() === 'group' ? who : [],
      mailboxes: mode() === 'explicit' ? who : [],
      shared: addresses(field('org-shared').value),
    };
  };

  async function connectGoogle() {
    const data = new FormData(form);
    const { organization, report } = await api('/orgs/gmail', {
      method: 'POST',
      body: { domain: data.get('domain'), adminEmail: data.get('adminEmail'), serviceAccountKey: data.get('serviceAccountKey'), selection: selection() },
    });
    notice('success', `Connected ${orgName(organization)}`, reportLines(report));
    announce(`Organization ${orgName(organization)} connected.`);
    form.hidden = true;
    opener.setAttribute('aria-expanded', 'false');
    await refresh();
    await onChange();
  }

  async function connectMicrosoft() {
    const returnHash = /^#\/[a-z_]+\/[^/]+$/.test(window.location.hash) ? window.location.hash : undefined;
    const { url } = await api('/orgs/outlook', { method: 'POST', body: { selection: selection(), ...(returnHash ? { returnHash } : {}) } });
    // Names the provider if the admin comes back with an error (only the provider's id is kept).
    sessionStorage.setItem('threadlink-connecting', 'outlook');
    window.location.assign(url);
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = field('org-submit');
    submit.disabled = true;
    try {
      await (provider() === 'gmail' ? connectGoogle() : connectMicrosoft());
    } catch (error) {
      showError(error, 'Connecting the organization');
    } finally {
      submit.disabled = false;
    }
  });

  async function sync(organization, button) {
    button.disabled = true;
    try {
      const { report } = await api(`/orgs/${encodeURIComponent(organization.id)}/sync`, { method: 'POST' });
      notice('success', `Directory of ${orgName(organization)} synced`, reportLines(report));
      await refresh();
      await onChange();
    } catch (error) {
      button.disabled = false;
      showError(error, 'Syncing the directory');
    }
  }

  async function disconnect(organization, button) {
    button.disabled = true;
    try {
      const { mailboxes } = await api(`/orgs/${encodeURIComponent(organization.id)}/disconnect`, { method: 'POST' });
      button.closest('.confirm')?.remove();
      notice('success', `Disconnected ${orgName(organization)}`, [
        `Stopped syncing ${mailboxes} mailbox${mailboxes === 1 ? '' : 'es'} and deleted their stored mail data. Your own mailboxes are untouched.`,
      ]);
      await refresh();
      await onChange();
      opener.focus();
    } catch (error) {
      button.disabled = false;
      showError(error, 'Disconnecting the organization');
    }
  }

  function confirmDisconnect(actions, organization) {
    const cancel = h('button', { type: 'button', class: 'button subtle' }, 'Cancel');
    const yes = h('button', { type: 'button', class: 'button danger' }, 'Yes, disconnect the organization');
    const question = h(
      'div',
      { class: 'confirm', role: 'group', 'aria-label': 'Confirm disconnecting the organization' },
      h('span', {}, 'Stop syncing every mailbox of this organization and delete their stored mail data?'),
      yes,
      cancel,
    );
    cancel.addEventListener('click', () => {
      question.remove();
      actions.querySelector('[data-action="org-disconnect"]')?.focus();
    });
    yes.addEventListener('click', () => disconnect(organization, yes));
    actions.append(question);
    yes.focus();
  }

  function mailboxRow(mailbox) {
    return h(
      'li',
      { class: 'org-mailbox', 'data-email': mailbox.email, 'data-status': mailbox.status },
      h('span', { class: 'org-mailbox-email', title: mailbox.email }, mailbox.email),
      h('span', { class: 'chip' }, KINDS[mailbox.kind] ?? mailbox.kind),
      h('span', { class: `status status-${mailbox.status}` }, MAILBOX_STATUS[mailbox.status] ?? mailbox.status),
    );
  }

  function rollUp(organization) {
    const headingId = `org-${organization.id.replace(/[^A-Za-z0-9_-]/g, '')}`;
    const syncButton = h('button', { type: 'button', class: 'button', 'data-action': 'org-sync' }, 'Sync directory now');
    const disconnectButton = h('button', { type: 'button', class: 'button subtle', 'data-action': 'org-disconnect' }, 'Disconnect organization');
    const actions = h('div', { class: 'toolbar org-actions' }, syncButton, disconnectButton);
    syncButton.addEventListener('click', () => sync(organization, syncButton));
    disconnectButton.addEventListener('click', () => confirmDisconnect(actions, organization));
    const problems = organization.problems;
    return h(
      'article',
      { class: 'org', 'aria-labelledby': headingId, 'data-org-id': organization.id, 'data-status': organization.status },
      h('h3', { id: headingId }, `${orgName(organization)} · ${PROVIDERS[organization.provider] ?? organization.provider}`),
      organization.provider === 'outlook' ? h('p', { class: 'hint org-directory' }, `Tenant ${organization.directoryId}`) : null,
      h(
        'p',
        { class: 'org-summary' },
        h('span', { class: `status status-${organization.status}`, 'data-testid': 'org-status' }, ORG_STATUS[organization.status] ?? organization.status),
        h('span', { 'data-testid': 'org-counts' }, countsLine(organization.counts)),
      ),
      problems.length
        ? h(
            'section',
            { class: 'org-problems', 'aria-label': 'Problems' },
            h('h4', {}, `Problems (${problems.length})`),
            h(
              'ul',
              {},
              problems.map((problem) => h('li', { 'data-email': problem.email, title: problem.message }, problemSentence(problem))),
            ),
          )
        : h('p', { class: 'muted' }, 'No problems: every chosen mailbox is open.'),
      h('h4', {}, 'Mailboxes'),
      h('ul', { class: 'org-mailboxes', 'aria-label': 'Mailboxes of the organization' }, organization.mailboxes.map(mailboxRow)),
      actions,
    );
  }

  async function refresh() {
    const isNewest = loads.begin();
    const { organizations } = await api('/orgs');
    if (!isNewest()) return;
    // A confirm question the user is answering stays where it is until they answer.
    if (list.querySelector('.confirm')) return;
    list.replaceChildren(...organizations.map(rollUp));
    opener.hidden = organizations.length > 0;
  }

  return {
    refresh,
    /** Shows the panel for the providers this server has; demo mode pre-fills the emulated organizations. */
    show({ providers, demoOrganizations }) {
      panel.hidden = providers.length === 0;
      for (const label of form.querySelectorAll('#org-providers label')) label.hidden = !providers.includes(label.dataset.provider);
      form.querySelector(`input[name="org-provider"][value="${providers[0]}"]`)?.click();
      demo = demoOrganizations;
      if (demo?.gmail) {
        field('org-domain').value = demo.gmail.domain;
        field('org-admin').value = demo.gmail.adminEmail;
        field('org-key').value = demo.gmail.serviceAccountKey;
      }
      showProvider();
    },
    /** Back from Microsoft's admin-consent page with `?org=<id>`: say so; the mailboxes open in the background. */
    landed(orgId) {
      if (!orgId) return;
      notice('success', 'Microsoft 365 organization connected', [
        'Its mailboxes are being opened now; their mail appears on the records as each one goes live.',
      ]);
      void refresh();
    },
  };
}
