import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeAccess } from './kube-access.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function kubeconfig(text: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-access-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, 'config'), text);
  return join(dir, 'config');
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('loadKubeAccess', () => {
  it('reads the current context: server, CA and client certificate data', () => {
    const access = loadKubeAccess(kubeconfig(`
apiVersion: v1
kind: Config
current-context: b
clusters:
- { name: one, cluster: { server: "https://one:6443" } }
- { name: two, cluster: { server: "https://127.0.0.1:7443/", certificate-authority-data: ${b64('CA')}, tls-server-name: kubernetes } }
users:
- { name: admin, user: { client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')} } }
contexts:
- { name: a, context: { cluster: one, user: admin } }
- { name: b, context: { cluster: two, user: admin } }
`));
    expect(access.server).toBe('https://127.0.0.1:7443');
    expect(access.ca?.toString()).toBe('CA');
    expect(access.cert?.toString()).toBe('CERT');
    expect(access.key?.toString()).toBe('KEY');
    expect(access.servername).toBe('kubernetes');
    expect(access.token).toBeUndefined();
    expect(access.needsClientNode).toBeUndefined();
  });

  it('reads files relative to the kubeconfig, and a token file', () => {
    const access = loadKubeAccess(kubeconfig(`
current-context: x
clusters: [{ name: c, cluster: { server: "https://h:1", certificate-authority: ca.crt } }]
users: [{ name: u, user: { tokenFile: token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
`, { 'ca.crt': 'CAFILE', token: 'tok-1\n' }));
    expect(access.ca?.toString()).toBe('CAFILE');
    expect(access.token?.()).toBe('tok-1');
  });

  it('hands exec plugins, auth-providers and proxies to client-node', () => {
    const access = loadKubeAccess(kubeconfig(`
current-context: x
clusters: [{ name: c, cluster: { server: "https://h:1", proxy-url: "http://proxy:3128" } }]
users: [{ name: u, user: { exec: { command: aws, apiVersion: client.authentication.k8s.io/v1 } } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
`));
    expect(access.needsClientNode).toBe('exec, proxy-url');
  });

  it('names what is missing', () => {
    expect(() => loadKubeAccess(kubeconfig('current-context: nope\ncontexts: [{ name: x, context: { cluster: c } }]\n'))).toThrow(/no cluster with a server/);
  });
});
