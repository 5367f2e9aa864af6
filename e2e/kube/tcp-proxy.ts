// A TCP proxy on 127.0.0.1 between a client and the API server, so a test can cut or freeze the
// connections a watch runs on. TLS passes through untouched.
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection (the client sees a reset). */
  cutAll(): void;
  /** Stops moving bytes on every open connection without closing it (a silently dead link). */
  freezeAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  const frozen = new Set<[Socket, Socket]>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      frozen.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    get accepted() { return accepted; },
    cutAll() {
      for (const [a, b] of pairs) { a.resetAndDestroy(); b.destroy(); }
      pairs.clear();
    },
    freezeAll() {
      for (const pair of pairs) {
        const [a, b] = pair;
        a.unpipe(b); b.unpipe(a); a.pause(); b.pause();
        frozen.add(pair);
      }
      pairs.clear();
    },
    async close() {
      for (const [a, b] of [...pairs, ...frozen]) { a.destroy(); b.destroy(); }
      await new Promise((r) => server.close(r));
    },
  };
}
