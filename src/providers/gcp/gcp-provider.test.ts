import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { GcpProviderSpec } from '../../api/providers/gcp.js';
import { gcpProvider } from './gcp-provider.js';
import type { StoreContext } from '../provider.js';
import { InvalidConfigError, UnavailableError } from '../provider-errors.js';

process.env.METADATA_SERVER_DETECTION = 'none';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const saKey = JSON.stringify({
  type: 'service_account',
  client_email: 'reader@proj.iam.gserviceaccount.com',
  private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
});
const secretRef = { secretRef: { secretAccessKeySecretRef: { name: 'gcp', key: 'key.json' } } };

function context(): StoreContext & { added: string[] } {
  const added: string[] = [];
  return {
    added,
    storeKind: 'SecretStore',
    storeName: 'gcp',
    namespace: 'team-a',
    log: { debug: () => undefined } as never,
    scrubber: { add: (v: string | Uint8Array) => void added.push(String(v)) } as never,
    credentials: {
      readSecretKey: () => Promise.resolve(saKey),
      requestServiceAccountToken: () => Promise.reject(new Error('unused')),
    },
  };
}

describe('gcp provider config', () => {
  const base: GcpProviderSpec = { projectID: 'my-project', auth: secretRef };

  it('accepts a minimal config and reports what to fix', () => {
    expect(gcpProvider.validateConfig(base)).toEqual([]);
    expect(gcpProvider.validateConfig({ ...base, insecure: true })).toEqual(['insecure needs an endpoint: it is only for a local emulator']);
    expect(gcpProvider.validateConfig({ ...base, endpoint: 'localhost:70000' })).toEqual(["endpoint 'localhost:70000' has no valid port"]);
    expect(gcpProvider.validateConfig({ ...base, auth: {} })).toEqual(['auth must set exactly one of secretRef or workloadIdentity']);
    const ca = rootCertificates[0] ?? '';
    expect(gcpProvider.validateConfig({ ...base, endpoint: 'proxy.internal:443', caBundle: ca })).toEqual([]);
    expect(gcpProvider.validateConfig({ ...base, endpoint: 'localhost:8080', insecure: true, caBundle: ca })).toEqual([
      'caBundle has no effect with insecure, which connects without TLS',
    ]);
    const wi = { serviceAccountRef: { name: 'app' }, audience: 'a', stsEndpoint: 'http://sts.example.com/v1/token' };
    expect(gcpProvider.validateConfig({ ...base, auth: { workloadIdentity: wi } })).toEqual([
      'auth.workloadIdentity.stsEndpoint must use https (plain http is only accepted for a loopback address)',
    ]);
    expect(gcpProvider.validateConfig({ ...base, auth: { workloadIdentity: { ...wi, stsEndpoint: 'http://127.0.0.1:8080/t' } } })).toEqual([]);
  });

  it('refuses to connect with a bad config or a key that is not a service-account key', async () => {
    await expect(gcpProvider.connect({ ...base, insecure: true }, context())).rejects.toBeInstanceOf(InvalidConfigError);
    const ctx = { ...context(), credentials: { ...context().credentials, readSecretKey: () => Promise.resolve('{"x":1}') } };
    await expect(gcpProvider.connect(base, ctx)).rejects.toThrow("key 'key.json' of Secret 'gcp' is not a service-account JSON key");
  });
});

describe('gcp provider calls', () => {
  let hanging: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: a server that hangs.
    hanging = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });

  const insecure = (endpoint: string): GcpProviderSpec => ({ projectID: 'my-project', endpoint, insecure: true, auth: secretRef });

  it('registers the key with the scrubber and reports a refused connection as unavailable', async () => {
    const ctx = context();
    const client = await gcpProvider.connect(insecure('127.0.0.1:1'), ctx);
    try {
      expect(ctx.added).toContain(saKey);
      await expect(client.getSecret({ key: 'db' }, { signal: AbortSignal.timeout(5000) })).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await client.close();
    }
  });

  it('cancels a call when the caller’s signal fires', async () => {
    const port = (hanging.address() as AddressInfo).port;
    const client = await gcpProvider.connect(insecure(`127.0.0.1:${port}`), context());
    try {
      const started = Date.now();
      const err = await client.getSecret({ key: 'db' }, { signal: AbortSignal.timeout(300) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toContain('CANCELLED');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await client.close();
    }
  });
});
