// Where the browser may be sent after the OAuth callback: the host's own origin only. One check,
// used by connect.start (refuses up front) and by the callback (judges again what the state says).

export function isSafeReturn(returnTo: string, origin: string): boolean {
  try {
    // Judge the URL the browser will actually follow: WHATWG parsing reads "/\evil.test" as
    // "//evil.test", so a prefix check on the raw string is an open redirect.
    return new URL(returnTo, origin).origin === origin;
  } catch {
    return false;
  }
}
