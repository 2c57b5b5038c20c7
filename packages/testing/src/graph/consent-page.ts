// The sign-in + consent page served at /{tenant}/oauth2/v2.0/authorize: a
// real, accessible HTML form (labelled email field, Accept / Cancel buttons)
// that a browser, a person, or the harness's authorize() helper can submit.
import { escapeHtml } from './message-json.js';

/** Plain-language descriptions of the delegated Graph permissions the SDK asks for. */
const SCOPE_DESCRIPTIONS: Record<string, string> = {
  'mail.readbasic': 'Read basic mail properties (not the message body)',
  'mail.read': 'Read your mail',
  'mail.readwrite': 'Read and write access to your mail',
  'mail.send': 'Send mail as you',
  'user.read': 'Sign you in and read your profile',
  offline_access: 'Maintain access to data you have given it access to',
  openid: 'Sign you in',
  profile: 'View your basic profile',
  email: 'View your email address',
};

export interface ConsentPageInput {
  action: string;
  clientId: string;
  scopes: string[];
  hiddenFields: Record<string, string>;
  email: string;
  knownAccounts: string[];
  error?: string;
}

export function renderConsentPage(input: ConsentPageInput): string {
  const permissions = input.scopes
    .map((scope) => {
      const short = scope.replace(/^https:\/\/graph\.microsoft\.com\//i, '');
      const description = SCOPE_DESCRIPTIONS[short.toLowerCase()] ?? short;
      return `<li><strong>${escapeHtml(description)}</strong> <code>${escapeHtml(short)}</code></li>`;
    })
    .join('\n        ');
  const hidden = Object.entries(input.hiddenFields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  const accounts = input.knownAccounts.map((account) => `<option value="${escapeHtml(account)}"></option>`).join('');
  const error = input.error ? `<p role="alert" id="signin-error" class="error">${escapeHtml(input.error)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in to your account — Microsoft identity platform emulator</title>
  <style>
    body { font-family: system-ui, sans-serif; background: #f2f2f2; margin: 0; }
    main { max-width: 28rem; margin: 4rem auto; background: #fff; padding: 2rem; box-shadow: 0 2px 6px rgba(0,0,0,.2); }
    label { display: block; font-weight: 600; margin-top: 1rem; }
    input[type=email] { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; margin-top: .25rem; }
    .actions { display: flex; gap: .75rem; justify-content: flex-end; margin-top: 1.5rem; }
    button { padding: .5rem 1.5rem; font-size: 1rem; cursor: pointer; }
    button[value=accept] { background: #0067b8; color: #fff; border: 0; }
    .error { color: #a80000; }
    :focus-visible { outline: 3px solid #000; outline-offset: 2px; }
  </style>
</head>
<body>
  <main>
    <h1>Permissions requested</h1>
    <p>The application <code>${escapeHtml(input.clientId)}</code> would like to:</p>
    <ul>
        ${permissions}
    </ul>
    ${error}
    <form method="post" action="${escapeHtml(input.action)}">
      ${hidden}
      <label for="email">Email address</label>
      <input id="email" name="email" type="email" autocomplete="username" required list="known-accounts"
        value="${escapeHtml(input.email)}"${input.error ? ' aria-invalid="true" aria-describedby="signin-error"' : ''}>
      <datalist id="known-accounts">${accounts}</datalist>
      <p>Accepting lets the app use this account's data as described above.</p>
      <div class="actions">
        <button type="submit" name="consent" value="deny">Cancel</button>
        <button type="submit" name="consent" value="accept">Accept</button>
      </div>
    </form>
  </main>
</body>
</html>
`;
}

export function renderErrorPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1><p role="alert">${escapeHtml(message)}</p></main></body>
</html>
`;
}

/** Auto-submitting page for `response_mode=form_post`. */
export function renderFormPost(redirectUri: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Working…</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(redirectUri)}">${inputs}
<noscript><button type="submit">Continue</button></noscript></form></body></html>
`;
}
