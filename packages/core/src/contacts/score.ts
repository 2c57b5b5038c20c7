// How strongly a participant looks like a contact the CRM is missing, from metadata only.
//
//   score = (min(received, sent) + min(1, 0.1 × |received − sent|)) × 0.5^(days since the last exchange / 90)
//
// `min(received, sent)` counts conversations that went both ways: a client writes and the user
// answers. What only goes one way — a newsletter's hundred issues, a prospect who never replied —
// adds at most 1, so a one-way sender can never outrank someone with two real exchanges. The
// 90-day half-life lets recent correspondents rise over last year's.
import type { ParticipantActivity } from '../ports/metadata-store.js';

const SCORE_HALF_LIFE_DAYS = 90;
const ONE_WAY_WEIGHT = 0.1;
const ONE_WAY_CAP = 1;
const DAY_MS = 86_400_000;

export function lastExchangeAt(activity: ParticipantActivity): number {
  return Math.max(activity.lastReceivedAt ?? Number.NEGATIVE_INFINITY, activity.lastSentAt ?? Number.NEGATIVE_INFINITY);
}

export function suggestionScore(activity: ParticipantActivity, now: number): number {
  const twoWay = Math.min(activity.received, activity.sent);
  const oneWay = Math.min(ONE_WAY_CAP, ONE_WAY_WEIGHT * Math.abs(activity.received - activity.sent));
  const ageDays = Math.max(0, now - lastExchangeAt(activity)) / DAY_MS;
  return Math.round((twoWay + oneWay) * 0.5 ** (ageDays / SCORE_HALF_LIFE_DAYS) * 1000) / 1000;
}
