import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a server, whose connections a test
 * can cut mid-stream (`cut`), or cut and refuse new ones until `resume`
 * (`pause`). `targetPort` is read for each connection, so the server may come
 * back on another port.
 */
export async function tcpProxy(targetPort: () => number) {
  const sockets = new Set<Socket>();
  let paused = false;
  const server = createServer((client) => {
    if (paused) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort(), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut,
    pause: () => {
      paused = true;
      cut();
    },
    resume: () => {
      paused = false;
    },
    close: async () => {
      cut();
      await new Promise((r) => server.close(r));
    },
  };
}

/** What tcpProxy starts. */
export type TcpProxy = Awaited<ReturnType<typeof tcpProxy>>;
