// "Draft a reply" and "People you email who are not in the CRM": the page's side of
// src/routes/assist.ts. Kept apart from app.js; app.js hands in its helpers (api, h, announce,
// showError) so this file owns no state of the page beyond its own list.

/**
 * Asks the server to draft a reply in a thread and puts it into the reply box for the user to
 * edit and send. The draft (derived from message content) lives only in the text box.
 */
export async function draftInto(textarea, messageId, button, { api, announce, showError }) {
  if (!messageId) return;
  if (textarea.value.trim() && !window.confirm('Replace what you have written with a draft?')) return;
  const label = button.textContent;
  button.disabled = true;
  button.textContent = 'Drafting…';
  try {
    const { text } = await api(`/messages/${encodeURIComponent(messageId)}/draft`, { method: 'POST', body: {} });
    textarea.value = text;
    textarea.focus();
    announce('Draft ready in the reply box. Edit it before sending.');
  } catch (error) {
    showError(error, 'Drafting the reply');
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

/** The list of suggested people, with "Add to CRM" (create the contact, then link their mail). */
export function setUpPeople({ api, h, announce, showError, onCreated }) {
  const list = document.getElementById('people-list');
  const empty = document.getElementById('people-empty');
  let loading = null;

  const describe = (suggestion) => {
    const parts = [];
    if (suggestion.company) parts.push(suggestion.company.label ?? suggestion.company.id);
    parts.push(`${suggestion.received} from them · ${suggestion.sent} from you`);
    return parts.join(' · ');
  };

  async function create(suggestion, button) {
    button.disabled = true;
    button.textContent = 'Adding…';
    try {
      const { record, linked } = await api('/contacts', { method: 'POST', body: { email: suggestion.address, name: suggestion.name ?? '' } });
      announce(`${record.label} added to the CRM; ${linked} ${linked === 1 ? 'message' : 'messages'} linked.`);
      await onCreated(record);
      await refresh();
    } catch (error) {
      button.disabled = false;
      button.textContent = 'Add to CRM';
      showError(error, 'Adding the contact', { retry: () => create(suggestion, button) });
    }
  }

  function render(suggestions) {
    empty.hidden = suggestions.length > 0;
    list.replaceChildren(
      ...suggestions.map((suggestion) => {
        const name = suggestion.name || suggestion.address;
        const button = h('button', { type: 'button', class: 'button', 'aria-label': `Add to CRM: ${name}` }, 'Add to CRM');
        button.addEventListener('click', () => void create(suggestion, button));
        return h(
          'li',
          { class: 'person', 'data-address': suggestion.address },
          h(
            'div',
            { class: 'person-text' },
            h('span', { class: 'person-name' }, name),
            suggestion.name ? h('span', { class: 'person-address' }, suggestion.address) : null,
            h('span', { class: 'person-activity muted' }, describe(suggestion)),
          ),
          button,
        );
      }),
    );
  }

  async function refresh() {
    // One request at a time; a later call waits for the running one and asks again.
    while (loading) await loading;
    loading = api('/contacts/suggestions')
      .then(({ suggestions }) => render(suggestions))
      .catch((error) => showError(error, 'Loading people you email'))
      .finally(() => {
        loading = null;
      });
    await loading;
  }

  return { refresh };
}
