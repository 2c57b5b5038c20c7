// A MetadataStore proxy that counts calls by method (and refused leases), so a test can hold the
// engine to its store round trips per message.
import type { MetadataStore } from '@threadlink/core';

export interface CountingStore {
  store: MetadataStore;
  /** Calls since the last reset, by method name. */
  counts(): Record<string, number>;
  /** acquireLease calls answered false since the last reset. */
  refusedLeases(): number;
  reset(): void;
}

export function countingStore(inner: MetadataStore): CountingStore {
  let calls = new Map<string, number>();
  let refused = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      const name = String(property);
      // Not an async wrapper: exportConnection is an async generator and must stay iterable.
      return (...args: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const result = method.apply(target, args);
        if (name !== 'acquireLease') return result;
        return (result as Promise<boolean>).then((acquired) => {
          if (!acquired) refused += 1;
          return acquired;
        });
      };
    },
  });
  return {
    store,
    counts: () => Object.fromEntries([...calls].sort(([left], [right]) => (left < right ? -1 : 1))),
    refusedLeases: () => refused,
    reset() {
      calls = new Map();
      refused = 0;
    },
  };
}
