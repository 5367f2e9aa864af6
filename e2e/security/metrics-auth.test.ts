// /metrics is not an open door (#10 point 8): bound beyond loopback it answers only a bearer token
// the real apiserver authenticates (TokenReview) whose user may get /metrics (SubjectAccessReview);
// the probes stay open and /metrics is not served on the probe port; the metrics port speaks TLS only.
import { Agent, fetch as undiciFetch } from 'undici';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { freePort, prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';

let cluster: TestCluster;
let op: RunningOperator;
let ns: string;
let metricsPort: number;
const reader = () => `${ns}-metrics-reader`;

// The metrics port speaks TLS (a certificate the operator made itself at start), the probe port plain HTTP.
const selfSigned = new Agent({ connect: { rejectUnauthorized: false } });
const get = async (port: number, path: string, token?: string) => {
  const scheme = port === metricsPort ? 'https' : 'http';
  const res = await undiciFetch(`${scheme}://127.0.0.1:${port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, dispatcher: selfSigned });
  return { status: res.status, body: await res.text(), challenge: res.headers.get('www-authenticate') };
};

beforeAll(async () => {
  cluster = loadTestCluster();
  ns = await cluster.createNamespace('metrics-auth');
  await prepareCluster(cluster.kubeconfigPath, ns);
  for (const sa of ['scraper', 'bystander']) await cluster.kubectl(['create', 'serviceaccount', sa, '-n', ns]);
  await cluster.kubectl(['create', 'clusterrole', reader(), '--non-resource-url=/metrics', '--verb=get']);
  await cluster.kubectl(['create', 'clusterrolebinding', reader(), `--clusterrole=${reader()}`, `--serviceaccount=${ns}:scraper`]);
  metricsPort = await freePort();
  // Every interface, no --metrics-auth: "auto" turns authentication on.
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: ns, namespace: ns, extraArgs: ['--metrics-addr', `0.0.0.0:${metricsPort}`] });
}, 120_000);

afterAll(async () => {
  await op?.stop();
  await selfSigned.close();
  await cluster.kubectl(['delete', 'clusterrolebinding,clusterrole', reader(), '--ignore-not-found']).catch(() => undefined);
  await cluster.deleteNamespace(ns);
});

describe('secure /metrics', () => {
  it('keeps the probes open and serves no /metrics on the probe port', async () => {
    expect((await get(op.healthPort, '/healthz')).status).toBe(200);
    expect((await get(op.healthPort, '/readyz')).status).toBe(200);
    expect((await get(op.healthPort, '/metrics')).status).toBe(404);
    expect((await get(metricsPort, '/healthz')).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow(); // no plain HTTP there: tokens never cross in clear
  });

  it('answers 401 without a token or with one the apiserver does not know', async () => {
    const none = await get(metricsPort, '/metrics');
    expect(none).toMatchObject({ status: 401, challenge: 'Bearer' });
    expect(none.body).not.toContain('lockstep_');
    expect((await get(metricsPort, '/metrics', 'not-a-token')).status).toBe(401);
  });

  it('answers 403 to a ServiceAccount that may not get /metrics, and the metrics to one that may', async () => {
    const bystander = (await cluster.kubectl(['create', 'token', 'bystander', '-n', ns])).trim();
    const denied = await get(metricsPort, '/metrics', bystander);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatch(new RegExp(`system:serviceaccount:${ns}:bystander may not get /metrics`));
    const scraper = (await cluster.kubectl(['create', 'token', 'scraper', '-n', ns])).trim();
    const allowed = await eventually(async () => {
      const r = await get(metricsPort, '/metrics', scraper);
      return r.status === 200 ? r : undefined;
    }, 20_000, 'the scraper to be allowed');
    expect(allowed.body).toContain('lockstep_kube_requests_total');
  });
});
