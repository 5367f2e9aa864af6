// TCP listeners that record every connection they accept, to prove the operator dialed nothing.
// In the tests' private network namespace (scripts/netns.sh) the metadata addresses can be given
// to loopback, so a listener can stand where a cloud's metadata service would answer: a refused
// store must not reach it, a ClusterSecretStore (not limited) does.
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { inPrivateNetns } from '../harness/node.js';

const run = promisify(execFile);

export interface Recorder {
  host: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startRecorder(host: string, port = 0): Promise<Recorder> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s)).on('error', () => s.destroy());
    s.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, host, () => ok()));
  const address = server.address();
  return {
    host,
    port: typeof address === 'object' && address ? address.port : port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

/** Addresses added to loopback (single hosts); false when this run is not in a private network namespace. */
export async function addLoopbackAddresses(addresses: readonly string[]): Promise<boolean> {
  if (!inPrivateNetns()) return false;
  for (const address of addresses) {
    const v6 = address.includes(':');
    await run('ip', ['addr', 'replace', `${address}/${v6 ? 128 : 32}`, 'dev', 'lo', ...(v6 ? ['nodad'] : [])]);
  }
  return true;
}

/** The metadata addresses, added to loopback; false when this run is not in a private network namespace. */
export function addMetadataAddresses(): Promise<boolean> {
  return addLoopbackAddresses(['169.254.169.254', 'fd00:ec2::254']);
}
