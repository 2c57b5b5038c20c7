// Which mail domains may identify a company. Free-mail providers never do (a gmail.com sender says
// nothing about their employer) and neither do the tenant's own domains (every outbound message
// would otherwise link to the tenant itself).

/**
 * Consumer mailbox providers. `name.*` stands for the provider under any country TLD
 * (hotmail.co.uk, yahoo.co.jp, gmx.de): those brands register one domain per market.
 * Sources: the providers' own sign-up pages and the free-email lists kept by form-validation
 * projects (e.g. github.com/willwhite/freemail); extend per tenant through `freeMailDomains`.
 */
export const FREE_MAIL_DOMAINS: readonly string[] = [
  'gmail.com',
  'googlemail.com',
  'outlook.*',
  'hotmail.*',
  'live.*',
  'msn.com',
  'windowslive.com',
  'passport.com',
  'yahoo.*',
  'ymail.com',
  'rocketmail.com',
  'aol.*',
  'aim.com',
  'verizon.net',
  'att.net',
  'sbcglobal.net',
  'bellsouth.net',
  'comcast.net',
  'cox.net',
  'charter.net',
  'icloud.com',
  'me.com',
  'mac.com',
  'proton.me',
  'protonmail.com',
  'protonmail.ch',
  'pm.me',
  'tutanota.com',
  'tutanota.de',
  'tuta.io',
  'tuta.com',
  'gmx.*',
  'web.de',
  't-online.de',
  'freenet.de',
  'posteo.de',
  'posteo.net',
  'mailbox.org',
  'arcor.de',
  '1und1.de',
  'bluewin.ch',
  'hispeed.ch',
  'chello.at',
  'aon.at',
  'orange.fr',
  'wanadoo.fr',
  'free.fr',
  'laposte.net',
  'sfr.fr',
  'neuf.fr',
  'libero.it',
  'virgilio.it',
  'tiscali.it',
  'alice.it',
  'tin.it',
  'telefonica.net',
  'terra.es',
  'ziggo.nl',
  'kpnmail.nl',
  'home.nl',
  'planet.nl',
  'hetnet.nl',
  'telenet.be',
  'skynet.be',
  'btinternet.com',
  'sky.com',
  'virginmedia.com',
  'talktalk.net',
  'ntlworld.com',
  'seznam.cz',
  'centrum.cz',
  'wp.pl',
  'o2.pl',
  'interia.pl',
  'onet.pl',
  'yandex.*',
  'ya.ru',
  'mail.ru',
  'inbox.ru',
  'list.ru',
  'bk.ru',
  'rambler.ru',
  'ukr.net',
  'qq.com',
  '163.com',
  '126.com',
  'yeah.net',
  'sina.com',
  'sohu.com',
  'aliyun.com',
  'naver.com',
  'daum.net',
  'hanmail.net',
  'rediffmail.com',
  'shaw.ca',
  'rogers.com',
  'sympatico.ca',
  'bigpond.com',
  'optusnet.com.au',
  'uol.com.br',
  'bol.com.br',
  'terra.com.br',
  'ig.com.br',
  'zoho.com',
  'zohomail.com',
  'fastmail.com',
  'fastmail.fm',
  'hey.com',
  'hushmail.com',
  'mail.com',
  'email.com',
  'usa.com',
  'inbox.com',
  'gmx.com',
  'duck.com',
];

// Second-level labels that are registries, not organisations (bigco.co.uk is registrable, co.uk is not).
const REGISTRY_SECOND_LEVELS = new Set(['co', 'com', 'net', 'org', 'ac', 'gov', 'edu', 'ne', 'or', 'go', 'gv', 'ltd', 'plc', 'sch', 'nic', 'gob', 'mil']);

/** bigco.com for mail.eu.bigco.com; the domain itself when it is already registrable-looking. */
export function parentDomains(domain: string): string[] {
  const labels = domain.split('.');
  const out: string[] = [];
  for (let start = 1; labels.length - start >= 2; start += 1) {
    const rest = labels.slice(start);
    if (rest.length === 2 && rest[1]!.length === 2 && REGISTRY_SECOND_LEVELS.has(rest[0]!)) break;
    out.push(rest.join('.'));
  }
  return out;
}

// A country-code or generic TLD after a `name.*` family: one label, or a registry second level + ccTLD.
const ANY_TLD = /^(?:[a-z]{2,6}|(?:co|com|net|org|ne|or)\.[a-z]{2})$/;

export interface DomainClassifier {
  isFreeMail(domain: string): boolean;
  isOwn(domain: string): boolean;
}

export function createDomainClassifier(extraFreeMail: readonly string[], ownDomains: readonly string[]): DomainClassifier {
  const exact = new Set<string>();
  const families = new Set<string>();
  for (const entry of [...FREE_MAIL_DOMAINS, ...extraFreeMail]) {
    const domain = entry.trim().toLowerCase();
    if (domain.endsWith('.*')) families.add(domain.slice(0, -2));
    else if (domain) exact.add(domain);
  }
  const own = new Set(ownDomains.map((domain) => domain.trim().toLowerCase()).filter(Boolean));

  const matchesFreeMail = (domain: string): boolean => {
    if (exact.has(domain)) return true;
    const dot = domain.indexOf('.');
    return dot > 0 && families.has(domain.slice(0, dot)) && ANY_TLD.test(domain.slice(dot + 1));
  };
  return {
    // Subdomains count too: us.yahoo.com and mx.gmx.de are the same consumer service.
    isFreeMail: (domain) => matchesFreeMail(domain) || parentDomains(domain).some(matchesFreeMail),
    isOwn: (domain) => own.has(domain) || parentDomains(domain).some((parent) => own.has(parent)),
  };
}
