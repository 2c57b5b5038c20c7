// How the mail panel writes people and times, the way CRM inboxes do: "Bianca Ortiz",
// initials in a coloured circle, "5 min ago" with the full date on hover.

const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const sameYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const otherYear = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' });

export const formatDate = (epochMs) => fullDate.format(new Date(epochMs));

/** "just now", "5 min ago", "3 h ago", "yesterday", "Tue", "3 Nov", "3 Nov 2024". */
export function relativeTime(epochMs, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - epochMs) / 1000));
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  const then = new Date(epochMs);
  const today = new Date(now);
  const startOfToday = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime();
  if (epochMs >= startOfToday) return `${Math.floor(seconds / 3600)} h ago`;
  if (epochMs >= startOfToday - 86_400_000) return 'yesterday';
  if (epochMs >= startOfToday - 6 * 86_400_000) return weekday.format(then);
  return then.getFullYear() === today.getFullYear() ? sameYear.format(then) : otherYear.format(then);
}

/** "Bianca Ortiz" → "BO"; "ops@northwind.example" → "OP". */
export function initials(nameOrAddress) {
  const name = (nameOrAddress ?? '?').replace(/@.*$/, '');
  const words = name.split(/[\s._-]+/).filter(Boolean);
  const letters = words.length >= 2 ? `${words[0][0]}${words[words.length - 1][0]}` : name.slice(0, 2);
  return letters.toUpperCase() || '?';
}

// Dark enough for white initials at WCAG AA (4.5:1) on every one of them.
const AVATAR_COLOURS = ['#0b57d0', '#8430ce', '#b3261e', '#146c2e', '#7d5260', '#006a6a', '#5b5f00', '#9c4100'];

export function avatarColour(key) {
  let hash = 0;
  for (const character of key ?? '') hash = (hash * 31 + character.charCodeAt(0)) >>> 0;
  return AVATAR_COLOURS[hash % AVATAR_COLOURS.length];
}

/** "2 min", "1 h 5 min" for a lag or an ETA. */
export function duration(ms) {
  const minutes = Math.round(ms / 60_000);
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
