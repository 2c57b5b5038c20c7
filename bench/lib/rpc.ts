// Request/response and events over a child process's IPC channel, both ways: the bench drives
// the SDK host ("connect this mailbox") and the host asks the bench back ("approve this consent
// URL on the emulator"), since the emulators live in the bench process.
import type { ChildProcess, Serializable } from 'node:child_process';

type Wire =
  | { rpc: 'call'; id: number; method: string; params: unknown }
  | { rpc: 'result'; id: number; ok: true; value: unknown }
  | { rpc: 'result'; id: number; ok: false; error: string }
  | { rpc: 'event'; name: string; payload: unknown };

interface Channel {
  send?: ((message: Serializable, callback: (error: Error | null) => void) => boolean) | undefined;
  connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off?(event: 'message', listener: (message: unknown) => void): unknown;
}

export type Handlers = Record<string, (params: never) => unknown>;

export class Rpc {
  private sequence = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private handlers: Handlers = {};

  constructor(private readonly channel: Channel) {
    channel.on('message', (raw) => this.receive(raw as Wire));
  }

  serve(handlers: Handlers): void {
    this.handlers = { ...this.handlers, ...handlers };
  }

  call<T = unknown>(method: string, params: unknown = {}): Promise<T> {
    const id = (this.sequence += 1);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ rpc: 'call', id, method, params });
    });
  }

  emit(name: string, payload: unknown = null): void {
    this.post({ rpc: 'event', name, payload });
  }

  on(name: string, listener: (payload: unknown) => void): () => void {
    const set = this.listeners.get(name) ?? new Set();
    set.add(listener);
    this.listeners.set(name, set);
    return () => void set.delete(listener);
  }

  /** Rejects every waiting call (the other side exited). */
  failAll(reason: string): void {
    for (const { reject } of this.pending.values()) reject(new Error(reason));
    this.pending.clear();
  }

  private post(message: Wire): void {
    if (!this.channel.send) throw new Error('no IPC channel');
    if (this.channel.connected === false) return;
    // With a callback a closed channel is an ignored error, not an 'error' event that kills the process.
    this.channel.send(message as unknown as Serializable, () => undefined);
  }

  private receive(message: Wire): void {
    if (!message || typeof message !== 'object' || !('rpc' in message)) return;
    if (message.rpc === 'event') {
      for (const listener of this.listeners.get(message.name) ?? []) listener(message.payload);
      return;
    }
    if (message.rpc === 'result') {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(message.error));
      return;
    }
    const handler = this.handlers[message.method];
    void (async () => {
      try {
        if (!handler) throw new Error(`no handler for ${message.method}`);
        const value = await (handler as (params: unknown) => unknown)(message.params);
        this.post({ rpc: 'result', id: message.id, ok: true, value: value ?? null });
      } catch (error) {
        this.post({ rpc: 'result', id: message.id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
    })();
  }
}

export function rpcOver(child: ChildProcess): Rpc {
  const rpc = new Rpc(child);
  child.once('exit', (code, signal) => rpc.failAll(`child exited (${signal ?? code})`));
  return rpc;
}
