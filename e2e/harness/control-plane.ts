// A real local Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager), started
// the way controller-runtime's envtest does it. Everything binds to 127.0.0.1 on free ports.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';
export type Pids = Partial<Record<ComponentName, number>>;

export interface ControlPlane {
  dir: string;
  kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  server: string;
  caCertPath: string;
  /** Current pids; kube-apiserver's changes on restartApiserver(). */
  pids: Pids;
  stop(): Promise<void>;
  /** Kills only kube-apiserver and starts it again with the same flags and port. */
  restartApiserver(): Promise<void>;
}

export interface StartOptions {
  dir: string;
  /** Start kube-controller-manager (default true). */
  controllerManager?: boolean;
  /** Start processes in their own session so they outlive this Node process (CLI use). */
  detached?: boolean;
}

const BUILD_SH = fileURLToPath(new URL('../controlplane/build.sh', import.meta.url));
let binDir: Promise<string> | undefined;

/** Folder holding kube-apiserver, kube-controller-manager and etcd (built once, then cached). */
export function ensureBinaries(): Promise<string> {
  binDir ??= new Promise<string>((ok, fail) => {
    const child = spawn('bash', [BUILD_SH], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? ok(out.trim().split('\n').at(-1) ?? '') : fail(new Error(`${BUILD_SH} exited with ${code}`)),
    );
  });
  return binDir;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok, fail) => srv.once('error', fail).listen(0, '127.0.0.1', ok));
  const addr = srv.address();
  await new Promise((ok) => srv.close(ok));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

const OPENSSL_CNF = `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

/** CA, apiserver serving cert, admin client cert (system:masters) and a ServiceAccount key pair. */
async function makePki(pki: string): Promise<void> {
  await mkdir(pki, { recursive: true });
  const cnf = join(pki, 'openssl.cnf');
  await writeFile(cnf, OPENSSL_CNF);
  const ssl = (...args: string[]) => run('openssl', args, { cwd: pki });
  const key = ['-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-config', cnf];
  await ssl('req', '-x509', ...key, '-extensions', 'ca', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=lockstep-e2e-ca');
  const leaf = async (name: string, subj: string, ext: string) => {
    await ssl('req', '-new', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
    const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`;
    await ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial,
      '-days', '3650', '-extfile', cnf, '-extensions', ext, '-out', `${name}.crt`);
  };
  await Promise.all([
    leaf('serving', '/CN=kube-apiserver', 'serving'),
    leaf('admin', '/O=system:masters/CN=lockstep-admin', 'client'),
    ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key')
      .then(() => ssl('pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub')),
  ]);
}

/** A kubeconfig for `server` with the harness CA and the admin client certificate of `pki`. */
export function kubeconfig(server: string, pki: string, name = 'lockstep'): string {
  const b64 = (f: string) => readFileSync(join(pki, f)).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${server}
    certificate-authority-data: ${b64('ca.crt')}
users:
- name: admin
  user:
    client-certificate-data: ${b64('admin.crt')}
    client-key-data: ${b64('admin.key')}
contexts:
- name: ${name}
  context: { cluster: ${name}, user: admin }
current-context: ${name}
`;
}

/** Status of an HTTPS GET with the admin client certificate, or 0 when the server does not answer. */
function adminGet(server: string, pki: string, path: string): Promise<number> {
  return new Promise((ok) => {
    const req = request(new URL(path, server), {
      ca: readFileSync(join(pki, 'ca.crt')),
      cert: readFileSync(join(pki, 'admin.crt')),
      key: readFileSync(join(pki, 'admin.key')),
      timeout: 5000,
    }, (res) => { res.resume(); ok(res.statusCode ?? 0); });
    req.on('error', () => ok(0)).on('timeout', () => req.destroy());
    req.end();
  });
}

/** True if pid is a running (not zombie) process, optionally checking its command line. */
export function alive(pid: number, binary?: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    return binary === undefined || readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith(binary) === true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs. */
export async function kill(pid: number, binary: string, graceMs = 10_000): Promise<void> {
  if (!alive(pid, binary)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  for (let i = 0; i < graceMs / 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
}

const STOP_ORDER: ComponentName[] = ['kube-controller-manager', 'kube-apiserver', 'etcd'];

/** Kills the processes recorded in dir/pids.json (used by `down` and for stale state on start). */
export async function stopFromDir(dir: string): Promise<void> {
  const file = join(dir, 'pids.json');
  if (!existsSync(file)) return;
  const pids = JSON.parse(await readFile(file, 'utf8')) as Pids;
  for (const name of STOP_ORDER) { const pid = pids[name]; if (pid) await kill(pid, name); }
  await rm(file, { force: true });
}

/** Reads dir/pids.json and reports which recorded processes are alive. */
export function statusFromDir(dir: string): Record<string, boolean> | undefined {
  const file = join(dir, 'pids.json');
  if (!existsSync(file)) return undefined;
  const pids = JSON.parse(readFileSync(file, 'utf8')) as Pids;
  return Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, alive(pid, n)]));
}

async function waitFor(what: string, check: () => Promise<boolean>, procs: ChildProcess[], logs: string[], ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const dead = procs.findIndex((p) => p.exitCode !== null || p.signalCode !== null);
    if (dead >= 0) throw new Error(`${what}: process exited early; last log lines:\n${tail(logs[dead] ?? '')}`);
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}; see logs in ${logs.join(', ')}`);
}

function tail(file: string): string {
  try { return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n'); } catch { return ''; }
}

export async function startControlPlane(opts: StartOptions): Promise<ControlPlane> {
  const dir = resolve(opts.dir);
  const bin = await ensureBinaries();
  await mkdir(dir, { recursive: true });
  await stopFromDir(dir);
  for (const stale of ['pki', 'etcd-data', 'kubeconfig', 'etcd.log', 'kube-apiserver.log', 'kube-controller-manager.log']) {
    await rm(join(dir, stale), { recursive: true, force: true });
  }
  const pki = join(dir, 'pki');
  const [, etcdPort, peerPort, apiPort] = await Promise.all([makePki(pki), freePort(), freePort(), freePort()]);
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig(server, pki), { mode: 0o600 });

  const pids: Pids = {};
  const children: Partial<Record<ComponentName, ChildProcess>> = {};
  const logOf = (name: ComponentName) => join(dir, `${name}.log`);
  const savePids = () => writeFile(join(dir, 'pids.json'), JSON.stringify(pids, null, 2) + '\n');
  let stopped = false;
  const launch = async (name: ComponentName, args: string[]): Promise<ChildProcess> => {
    if (stopped) throw new Error(`control plane in ${dir} was stopped`);
    const fd = openSync(logOf(name), 'a');
    const child = spawn(join(bin, name), args, { stdio: ['ignore', fd, fd], detached: opts.detached ?? false });
    closeSync(fd);
    child.unref();
    await new Promise<void>((ok, fail) => child.once('spawn', ok).once('error', fail));
    children[name] = child;
    pids[name] = child.pid;
    await savePids();
    return child;
  };

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--tls-cert-file=${join(pki, 'serving.crt')}`,
    `--tls-private-key-file=${join(pki, 'serving.key')}`,
    `--client-ca-file=${join(pki, 'ca.crt')}`,
    '--authorization-mode=Node,RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    `--service-account-key-file=${join(pki, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    '--allow-privileged=true',
    '--endpoint-reconciler-type=none',
  ];
  const startApiserver = async () => {
    const child = await launch('kube-apiserver', apiserverArgs);
    await waitFor('kube-apiserver /readyz', async () => (await adminGet(server, pki, '/readyz')) === 200,
      [child], [logOf('kube-apiserver')]);
  };

  const stop = async () => {
    stopped = true;
    for (const name of STOP_ORDER) { const pid = pids[name]; if (pid) await kill(pid, name); delete pids[name]; }
    await rm(join(dir, 'pids.json'), { force: true });
  };

  try {
    const etcd = await launch('etcd', [
      '--name=lockstep',
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=lockstep=${peerUrl}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd /health', async () => {
      try { return (await fetch(`${etcdUrl}/health`)).ok; } catch { return false; }
    }, [etcd], [logOf('etcd')]);
    await startApiserver();
    if (opts.controllerManager ?? true) {
      const kcm = await launch('kube-controller-manager', [
        `--kubeconfig=${kubeconfigPath}`,
        '--leader-elect=false',
        '--secure-port=0',
        `--service-account-private-key-file=${join(pki, 'sa.key')}`,
        `--root-ca-file=${join(pki, 'ca.crt')}`,
        `--cluster-signing-cert-file=${join(pki, 'ca.crt')}`,
        `--cluster-signing-key-file=${join(pki, 'ca.key')}`,
        '--controllers=*',
      ]);
      await waitFor('default ServiceAccount (kube-controller-manager)',
        async () => (await adminGet(server, pki, '/api/v1/namespaces/default/serviceaccounts/default')) === 200,
        [kcm], [logOf('kube-controller-manager')]);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    dir, kubeconfigPath, server, pids, stop,
    caCertPath: join(pki, 'ca.crt'),
    async restartApiserver() {
      const pid = pids['kube-apiserver'];
      // With watchers connected, a graceful apiserver shutdown hangs ~10s; a restart need not wait.
      if (pid) await kill(pid, 'kube-apiserver', 2000);
      delete pids['kube-apiserver'];
      await startApiserver();
    },
  };
}
