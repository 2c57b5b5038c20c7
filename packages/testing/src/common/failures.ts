// The part of an injected failure both emulators share: which operation, when (refused before it
// runs, or carried out and then answered badly), how many times, and whether the connection is
// dropped instead of answered.

export interface FailureSpec {
  operation: string;
  /** HTTP status of the error answer (0 with `drop`). */
  status: number;
  remaining: number;
  when: 'before' | 'after';
  drop?: boolean;
}

export function failureSpec(operation: string, when: 'before' | 'after', input: { status?: number | 'drop'; count?: number }): FailureSpec {
  const status = input.status ?? 500;
  return {
    operation,
    status: status === 'drop' ? 0 : status,
    remaining: input.count ?? 1,
    when,
    ...(status === 'drop' ? { drop: true } : {}),
  };
}
