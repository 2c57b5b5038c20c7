// Graph represents every participant as {emailAddress:{name,address}}; the
// harness accepts the RFC 5322 spellings people type ("Ann <ann@x.test>").
export interface Recipient {
  name: string;
  address: string;
}

export interface GraphRecipient {
  emailAddress: { name: string; address: string };
}

export function parseAddress(input: string): Recipient {
  const trimmed = input.trim();
  const angle = /^(.*)<([^>]+)>\s*$/.exec(trimmed);
  if (angle) {
    const name = (angle[1] ?? '').trim().replace(/^"(.*)"$/, '$1');
    const address = (angle[2] ?? '').trim();
    return { name: name || address, address };
  }
  return { name: trimmed, address: trimmed };
}

export function parseAddressList(input: string | string[] | undefined): Recipient[] {
  if (input === undefined) return [];
  const items = Array.isArray(input) ? input : input.split(',');
  return items
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
    .map(parseAddress);
}

export function toGraphRecipient(recipient: Recipient): GraphRecipient {
  return { emailAddress: { name: recipient.name, address: recipient.address } };
}

/** Reads a Graph recipient collection from a request body, tolerating missing names. */
export function fromGraphRecipients(value: unknown): Recipient[] {
  if (!Array.isArray(value)) return [];
  const recipients: Recipient[] = [];
  for (const item of value) {
    const emailAddress = (item as { emailAddress?: { name?: unknown; address?: unknown } } | null)?.emailAddress;
    if (!emailAddress || typeof emailAddress.address !== 'string') continue;
    const address = emailAddress.address.trim();
    const name = typeof emailAddress.name === 'string' && emailAddress.name.trim() ? emailAddress.name.trim() : address;
    recipients.push({ name, address });
  }
  return recipients;
}

export function formatAddress(recipient: Recipient): string {
  return recipient.name && recipient.name !== recipient.address ? `"${recipient.name.replace(/"/g, '')}" <${recipient.address}>` : recipient.address;
}

export function sameAddress(left: string, right: string): boolean {
  return left.trim().toLowerCase() === right.trim().toLowerCase();
}
