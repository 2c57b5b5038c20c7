// A TCP proxy between a store and PostgreSQL, so a test can "stop the database server" without
// stopping the shared one: cut() destroys every open connection and stops listening (as a stopped
// server does: the pool's clients lose their sockets, and a reconnect meets ECONNREFUSED, a socket
// error code rather than a SQLSTATE); restore() listens again on the same port.
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far (the pool reconnecting shows here). */
  readonly accepted: number;
  cut(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let down = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    accepted += 1;
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut() {
      down = true;
      server.close();
      for (const socket of open) socket.destroy();
      open.clear();
    },
    async restore() {
      down = false;
      if (!server.listening) await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      down = true;
      for (const socket of open) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
