// CPU of the Node glue alone (`toNodeHandler`) per request: a node:http server in this process with a
// handler that does what Gmail's intake does with a push (two header reads, the body as text) and
// answers an empty 202, and the same server with the glue replaced by plain node:http code (read the
// body, answer 202) for the floor. The client (keep-alive POSTs of a Pub/Sub-sized JSON body, a few
// in flight) runs in a child process, so only the server's CPU is counted. A diagnostic for A/B
// runs on a shared box, not a scenario:
//   pnpm tsx --conditions=source bench/node-glue-cpu.ts [requests] [rounds]
import { fork } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { toNodeHandler } from '@threadlink/core';

const requests = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 5);

if (process.env.GLUE_CLIENT) {
  // The client: `requests` POSTs per message from the parent, 8 in flight, on a keep-alive agent.
  const { Agent, request } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const data = Buffer.from(JSON.stringify({ emailAddress: 'user1@acme.example', historyId: 123456789 })).toString('base64');
  const token = `Bearer ${'x'.repeat(900)}`;
  const post = (port: number, id: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({
        message: { data, messageId: String(id), message_id: String(id), publishTime: new Date().toISOString(), publish_time: new Date().toISOString() },
        subscription: 'projects/bench/subscriptions/threadlink',
      });
      const req = request(
        {
          agent,
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/threadlink/webhooks/gmail',
          headers: { authorization: token, 'content-type': 'application/json', 'user-agent': 'APIs-Google' },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`answered ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  process.on('message', async ({ port, count }: { port: number; count: number }) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) await post(port, next++);
      }),
    );
    process.send!('done');
  });
} else {
  const handler = async (request: Request): Promise<Response> => {
    if (!request.headers.get('authorization') || !request.headers.get('content-type')) throw new Error('headers missing');
    if ((await request.text()).length === 0) throw new Error('no body');
    return new Response(null, { status: 202 });
  };
  const glue = toNodeHandler(handler);
  const bare = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (!req.headers.authorization || Buffer.concat(chunks).toString('utf8').length === 0) throw new Error('no body');
      res.writeHead(202).end();
    });
  };
  const client = fork(new URL(import.meta.url).pathname, process.argv.slice(2), { env: { ...process.env, GLUE_CLIENT: '1' }, execArgv: process.execArgv });
  const measure = async (listener: typeof bare): Promise<number> => {
    const server = createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const run = (count: number) =>
      new Promise<void>((resolve) => {
        client.once('message', () => resolve());
        client.send({ port, count });
      });
    await run(1000); // warm-up
    const cpu = process.cpuUsage();
    await run(requests);
    const used = process.cpuUsage(cpu);
    server.closeAllConnections();
    server.close();
    return (used.user + used.system) / requests;
  };
  const results = { glue: [] as number[], bare: [] as number[] };
  for (let round = 0; round < rounds; round += 1) {
    results.glue.push(await measure(glue));
    results.bare.push(await measure(bare));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(
    JSON.stringify({
      requests,
      glueCpuUsPerRequest: Math.round(median(results.glue)),
      bareCpuUsPerRequest: Math.round(median(results.bare)),
      glueOverBareUs: Math.round(median(results.glue.map((value, index) => value - results.bare[index]!))),
      glue: results.glue.map(Math.round),
      bare: results.bare.map(Math.round),
      loadAverage: os.loadavg().map((value) => Number(value.toFixed(1))),
    }),
  );
  client.kill();
}
