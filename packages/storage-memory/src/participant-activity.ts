// Contact discovery's look-up: a scan of the tenant's messages, counted per address the way the
// port defines it (inbound: the sender; outbound: every recipient), then sorted in the port's order.
import { compareParticipantActivity, domainOf, type ParticipantActivity, type ParticipantActivityLookup } from '@threadlink/core/store';
import type { MessageMeta, Participant } from '@threadlink/core/store';
import type { Tables } from './tables.js';
import { visibleConnections } from './timeline.js';

interface Tally extends ParticipantActivity {
  /** receivedAt and id of the message the name came from (newest wins). */
  namedAt: readonly [number, string] | null;
}

/** The addresses a message counts for, once each, with the name the message gives them. */
function counted(message: MessageMeta): Map<string, string | undefined> {
  const participants: Participant[] = message.direction === 'inbound' ? (message.from ? [message.from] : []) : [...message.to, ...message.cc, ...message.bcc];
  const byAddress = new Map<string, string | undefined>();
  for (const participant of participants) {
    const address = participant.address.toLowerCase();
    if (!byAddress.has(address) || (byAddress.get(address) === undefined && participant.name)) byAddress.set(address, participant.name || undefined);
  }
  return byAddress;
}

export function participantActivity(tables: Tables, lookup: ParticipantActivityLookup): ParticipantActivity[] {
  const visible = visibleConnections(lookup.connectionIds);
  const excludedAddresses = new Set(lookup.excludeAddresses);
  const excludedDomains = new Set(lookup.excludeDomains);
  const only = lookup.addresses === null ? null : new Set(lookup.addresses);
  const tallies = new Map<string, Tally>();
  for (const message of tables.messages.values()) {
    if (message.tenantId !== lookup.tenantId || !visible(message.connectionId)) continue;
    if (lookup.since !== null && message.receivedAt < lookup.since) continue;
    for (const [address, name] of counted(message)) {
      if ((only !== null && !only.has(address)) || excludedAddresses.has(address) || excludedDomains.has(domainOf(address))) continue;
      let tally = tallies.get(address);
      if (!tally) {
        tally = { address, name: null, received: 0, sent: 0, lastReceivedAt: null, lastSentAt: null, namedAt: null };
        tallies.set(address, tally);
      }
      if (message.direction === 'inbound') {
        tally.received += 1;
        tally.lastReceivedAt = Math.max(tally.lastReceivedAt ?? message.receivedAt, message.receivedAt);
      } else {
        tally.sent += 1;
        tally.lastSentAt = Math.max(tally.lastSentAt ?? message.receivedAt, message.receivedAt);
      }
      const newer =
        tally.namedAt === null || message.receivedAt > tally.namedAt[0] || (message.receivedAt === tally.namedAt[0] && message.id > tally.namedAt[1]);
      if (name && newer) {
        tally.name = name;
        tally.namedAt = [message.receivedAt, message.id];
      }
    }
  }
  return [...tallies.values()]
    .map(({ namedAt: _namedAt, ...activity }) => activity)
    .sort(compareParticipantActivity)
    .slice(0, lookup.limit);
}
