// The part of an injected failure both emulators share: which operation, when (refused before it
// runs, or carried out and then answered badly), how many times, and whether the connection is
// dropped instead of answered, or left hanging with no answer at all.

export interface FailureSpec {
  operation: string;
  /** HTTP status of the error answer (0 with `drop`). */
  status: number;
  remaining: number;
  when: 'before' | 'after';
  drop?: boolean;
  /** Never answered: the connection stays open until the client gives up (or the emulator closes). */
  hang?: boolean;
}

export function failureSpec(operation: string, when: 'before' | 'after', input: { status?: number | 'drop' | 'hang'; count?: number }): FailureSpec {
  const status = input.status ?? 500;
  return {
    operation,
    status: status === 'drop' || status === 'hang' ? 0 : status,
    remaining: input.count ?? 1,
    when,
    ...(status === 'drop' ? { drop: true } : {}),
    ...(status === 'hang' ? { hang: true } : {}),
  };
}
