// Serves a web-standard handler (tl.handler) on 127.0.0.1 so emulators can deliver pushes to it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler, type WebHandler } from '@threadlink/core';

export interface ServedHandler {
  /** Origin, e.g. http://127.0.0.1:PORT — use `${url}/threadlink` as publicUrl when mounting under /threadlink. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a server for a handler. To learn the URL before threadlink exists (publicUrl needs it),
 * pass a late-binding function: `serveWebHandler((request) => tl.handler(request))`.
 */
export async function serveWebHandler(handler: WebHandler): Promise<ServedHandler> {
  const server = createServer(toNodeHandler(handler));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
