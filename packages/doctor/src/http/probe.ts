// One HTTP call with a hard deadline covering the headers and the body, reporting timeouts and
// network errors as values (a doctor explains failures; it does not throw them).
export type ProbeResult =
  | { ok: true; status: number; headers: Headers; text: string; elapsedMs: number }
  | { ok: false; reason: 'timeout' | 'network'; message: string; elapsedMs: number };

export async function probe(fetchImpl: typeof fetch, url: string, init: RequestInit, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    const response = await fetchImpl(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return { ok: true, status: response.status, headers: response.headers, text, elapsedMs: elapsed() };
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { ok: false, reason: 'timeout', message: `no complete answer within ${timeoutMs} ms`, elapsedMs: elapsed() };
    }
    return { ok: false, reason: 'network', message: networkMessage(error), elapsedMs: elapsed() };
  }
}

/** undici reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND, TLS) in `cause`. */
function networkMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.message?.includes(cause.code) ? cause.message : `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? (error as Error).message;
}

/** A short, single-line excerpt of a body for a finding (bodies can be whole HTML pages). */
export function excerpt(text: string, length = 80): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length)}…` : line;
}
