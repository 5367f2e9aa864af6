// A real Kubernetes node next to the local control plane, following ../shared/NODE.md:
// containerd (Debian's, with runc and the CNI plugins), kube-scheduler and a kubelet registered
// as node "127.0.0.1". It must run inside a private network namespace (scripts/netns.sh): pods get
// addresses on 10.244.0.0/24 from a bridge that exists only there, and reach the apiserver through
// the `kubernetes` Service IP 10.0.0.1:443, which one DNAT rule in that namespace sends to the
// apiserver's 127.0.0.1 port. Nothing is added to the machine's own network namespace.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { alive, ensureBinaries, kill } from './control-plane.js';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const script = (name: string): string => fileURLToPath(new URL(`../node/${name}`, import.meta.url));

export const NODE_NAME = '127.0.0.1';
/** The `kubernetes` Service's ClusterIP for --service-cluster-ip-range=10.0.0.0/24. */
export const SERVICE_IP = '10.0.0.1';
const POD_CIDR = '10.244.0.0/24';
const BRIDGE = 'lockstep0';

type NodeComponent = 'containerd' | 'kube-scheduler' | 'kubelet';
type NodePids = Partial<Record<NodeComponent, number>>;

export interface LocalNode {
  dir: string;
  /** unix socket of containerd, for `ctr --address` and `crictl`. */
  containerdSocket: string;
  pids: NodePids;
  /** Imports a `docker save` / OCI archive into containerd's k8s.io namespace. */
  importImage(tarPath: string): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  /** The control plane's folder; the node lives in `<dir>/node`. */
  clusterDir: string;
  kubeconfigPath: string;
  /** The apiserver's 127.0.0.1 port, target of the Service IP DNAT rule. */
  apiserverPort: number;
  /** Image archives to import before the kubelet starts (the pause image is always imported). */
  images?: string[];
  detached?: boolean;
}

/**
 * True when this process is in a network namespace of its own: one with no interface but
 * loopback and what the node adds (its bridge and the pods' veths). /proc/self/net follows the
 * process's namespace; /sys/class/net and /proc/1/ns/net do not help after nsenter.
 */
export function inPrivateNetns(): boolean {
  try {
    const names = readFileSync('/proc/self/net/dev', 'utf8').split('\n').slice(2)
      .map((l) => l.split(':')[0]?.trim() ?? '').filter(Boolean);
    return names.every((n) => n === 'lo' || n === BRIDGE || n.startsWith('veth'));
  } catch {
    return false;
  }
}

async function lastLine(cmd: string): Promise<string> {
  const { stdout } = await run('bash', [cmd], { maxBuffer: 1 << 24 });
  return stdout.trim().split('\n').at(-1) ?? '';
}

/** Folders of the Debian-packaged tools (installed once), crictl and the node's own images. */
export async function ensureNodeTools(): Promise<{ tools: string; images: string; bin: string }> {
  const tools = await lastLine(script('install.sh'));
  const images = await lastLine(script('images.sh'));
  return { tools, images, bin: await ensureBinaries() };
}

function containerdConfig(dir: string): string {
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
oom_score = 0
[grpc]
  address = "${dir}/containerd.sock"
[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/lockstep/pause:1"
  disable_apparmor = true
  # Root here lacks CAP_SYS_RESOURCE, so runc may not lower oom_score_adj below 0 (NODE.md).
  restrict_oom_score_adj = true
  enable_cdi = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
        Root = "${dir}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: 'lockstep',
    plugins: [
      {
        type: 'bridge', bridge: BRIDGE, isGateway: true, isDefaultGateway: true, ipMasq: false, hairpinMode: true,
        ipam: { type: 'host-local', dataDir: `${dir}/cni/ipam`, ranges: [[{ subnet: POD_CIDR }]] },
      },
      { type: 'loopback' },
    ],
  }, null, 2);
}

function kubeletConfig(dir: string, cgroupRoot: string): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication: { anonymous: { enabled: true }, webhook: { enabled: false } }
authorization: { mode: AlwaysAllow }
cgroupDriver: cgroupfs
cgroupsPerQOS: true
cgroupRoot: /${cgroupRoot}
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://${dir}/containerd.sock
imageServiceEndpoint: unix://${dir}/containerd.sock
podLogsDir: ${dir}/pod-logs
staticPodPath: ""
syncFrequency: 10s
fileCheckFrequency: 20s
nodeStatusUpdateFrequency: 5s
nodeStatusReportFrequency: 1m
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: "1Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%" }
evictionPressureTransitionPeriod: 10s
maxPods: 110
resolvConf: ""
clusterDomain: cluster.local
clusterDNS: []
localStorageCapacityIsolation: true
protectKernelDefaults: false
makeIPTablesUtilChains: false
shutdownGracePeriod: 0s
registerNode: true
rotateCertificates: false
serverTLSBootstrap: false
`;
}

/** cgroup hierarchies: the v1 ones, and with `unified` the v2 mount beside them (hybrid mode). */
async function cgroupHierarchies(unified: boolean): Promise<string[]> {
  const names = await readdir('/sys/fs/cgroup').catch(() => []);
  return names.filter((n) => unified || n !== 'unified').map((n) => join('/sys/fs/cgroup', n));
}

/** Every folder below `root`, deepest first, so they can be removed in order. */
async function subdirsDeepestFirst(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
    }
    out.push(d);
  };
  await walk(root);
  return out;
}

async function prepareCgroups(cgroupRoot: string): Promise<void> {
  // The kubelet makes its own folder in the unified (v2) mount; the v1 ones must exist first.
  for (const h of await cgroupHierarchies(false)) await mkdir(join(h, cgroupRoot), { recursive: true });
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const parent = join('/sys/fs/cgroup/cpuset', f);
    if (existsSync(parent)) await writeFile(join('/sys/fs/cgroup/cpuset', cgroupRoot, f), await readFile(parent));
  }
}

async function removeCgroups(cgroupRoot: string): Promise<void> {
  for (const h of await cgroupHierarchies(true)) {
    for (const d of await subdirsDeepestFirst(join(h, cgroupRoot))) await rmdir(d).catch(() => undefined);
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, ms: number, logFile?: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  const tail = logFile ? `; last log lines:\n${readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n')}` : '';
  throw new Error(`timed out waiting for ${what}${tail}`);
}

async function ok(cmd: string, args: string[]): Promise<boolean> {
  try { await run(cmd, args); return true; } catch { return false; }
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Where `make image` writes the operator's image. */
export const OPERATOR_IMAGE_TAR = join(REPO, 'build/lockstep-image.tar');
/** The reference `make image` gives the operator's image (`image.repository:tag` in the chart). */
export const OPERATOR_IMAGE = `ghcr.io/lockstep-dev/lockstep:${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version}`;
export const BUSYBOX_IMAGE = 'localhost/lockstep/busybox:1';

/** The operator's image and the busybox test image, as archives to import into the node. */
export async function operatorAndTestImages(): Promise<string[]> {
  if (!existsSync(OPERATOR_IMAGE_TAR)) throw new Error(`${OPERATOR_IMAGE_TAR} is missing: run \`make image\` first`);
  const { images } = await ensureNodeTools();
  return [OPERATOR_IMAGE_TAR, join(images, 'busybox.tar')];
}

/** Starts containerd, kube-scheduler and a kubelet; resolves when the node is Ready. */
export async function startNode(opts: NodeOptions): Promise<LocalNode> {
  if (!inPrivateNetns()) {
    throw new Error('the local node must run in a private network namespace: start it through scripts/netns.sh (make test, make cluster-up do)');
  }
  const { tools, images, bin } = await ensureNodeTools();
  const dir = join(resolve(opts.clusterDir), 'node');
  await stopNodeFromDir(opts.clusterDir);
  await rm(dir, { recursive: true, force: true });
  for (const d of ['etc', 'cni/net.d', 'cni/ipam', 'containerd', 'kubelet', 'pod-logs', 'runc']) await mkdir(join(dir, d), { recursive: true });
  // One cgroup subtree per node folder, so a second node (another checkout) never shares it.
  const cgroupRoot = `lockstep-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`;
  await Promise.all([
    writeFile(join(dir, 'etc/containerd.toml'), containerdConfig(dir)),
    writeFile(join(dir, 'cni/net.d/10-lockstep.conflist'), cniConfig(dir)),
    writeFile(join(dir, 'etc/kubelet.yaml'), kubeletConfig(dir, cgroupRoot)),
    writeFile(join(dir, 'cgroup-root'), cgroupRoot),
    prepareCgroups(cgroupRoot),
  ]);
  // Pods reach the apiserver as the `kubernetes` Service; there is no kube-proxy, so one rule.
  await run('sysctl', ['-qw', 'net.ipv4.conf.all.route_localnet=1']);
  await run('ip', ['link', 'set', 'lo', 'up']);
  await run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-d', `${SERVICE_IP}/32`, '-p', 'tcp', '--dport', '443',
    '-j', 'DNAT', '--to-destination', `127.0.0.1:${opts.apiserverPort}`]);

  const pids: NodePids = {};
  const savePids = () => writeFile(join(dir, 'pids.json'), JSON.stringify(pids, null, 2) + '\n');
  const launch = async (name: NodeComponent, path: string, args: string[]): Promise<void> => {
    const fd = openSync(join(dir, `${name}.log`), 'a');
    const child = spawn(path, args, { stdio: ['ignore', fd, fd], detached: opts.detached ?? false });
    closeSync(fd);
    child.unref();
    await new Promise<void>((done, fail) => child.once('spawn', done).once('error', fail));
    pids[name] = child.pid;
    await savePids();
  };
  const socket = join(dir, 'containerd.sock');
  const ctr = (...args: string[]) => run('ctr', ['--address', socket, '-n', 'k8s.io', ...args], { maxBuffer: 1 << 24 });
  const node: LocalNode = {
    dir, containerdSocket: socket, pids,
    importImage: async (tar) => { await ctr('images', 'import', '--no-unpack=false', tar); },
    stop: () => stopNodeFromDir(opts.clusterDir),
  };
  try {
    await launch('containerd', 'containerd', ['--config', join(dir, 'etc/containerd.toml')]);
    await waitUntil('containerd', () => ok('ctr', ['--address', socket, 'version']), 30_000, join(dir, 'containerd.log'));
    for (const tar of [join(images, 'pause.tar'), ...(opts.images ?? [])]) await node.importImage(tar);
    const kc = opts.kubeconfigPath;
    await launch('kube-scheduler', join(bin, 'kube-scheduler'), [`--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0']);
    await launch('kubelet', join(bin, 'kubelet'), [`--config=${join(dir, 'etc/kubelet.yaml')}`, `--kubeconfig=${kc}`,
      `--hostname-override=${NODE_NAME}`, `--root-dir=${join(dir, 'kubelet')}`, `--cert-dir=${join(dir, 'kubelet/pki')}`, '--v=1']);
    await writeFile(join(dir, 'crictl'), join(tools, 'crictl'));
    await waitUntil(`node ${NODE_NAME} Ready`, async () => {
      if (!alive(pids.kubelet ?? 0)) throw new Error(`kubelet exited; see ${join(dir, 'kubelet.log')}`);
      try {
        const { stdout } = await run('kubectl', ['--kubeconfig', kc, 'get', 'node', NODE_NAME, '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        return stdout.trim() === 'True';
      } catch { return false; }
    }, 90_000, join(dir, 'kubelet.log'));
  } catch (err) {
    await node.stop();
    throw err;
  }
  return node;
}

/**
 * Stops the node recorded in `<clusterDir>/node` and removes what it left on the machine: every
 * pod through the CRI first (so CNI deletes their network namespaces and veths), then the
 * processes, the shims, mounts under the node folder, its cgroups, and the files the kubelet
 * writes at fixed host paths. Safe to call when nothing runs.
 */
export async function stopNodeFromDir(clusterDir: string): Promise<void> {
  const dir = join(resolve(clusterDir), 'node');
  const pidsFile = join(dir, 'pids.json');
  if (!existsSync(pidsFile)) return;
  const pids = JSON.parse(await readFile(pidsFile, 'utf8')) as NodePids;
  const socket = join(dir, 'containerd.sock');
  if (pids.kubelet) await kill(pids.kubelet, 'kubelet', 10_000);
  if (pids['kube-scheduler']) await kill(pids['kube-scheduler'], 'kube-scheduler', 5_000);
  if (pids.containerd && alive(pids.containerd, 'containerd')) {
    const crictl = existsSync(join(dir, 'crictl')) ? (await readFile(join(dir, 'crictl'), 'utf8')).trim() : '';
    if (crictl) {
      await run(crictl, ['-r', `unix://${socket}`, '-i', `unix://${socket}`, '-t', '30s', 'rmp', '-fa'], { timeout: 60_000 }).catch(() => undefined);
    }
    const tasks = await run('ctr', ['--address', socket, '-n', 'k8s.io', 'tasks', 'ls', '-q']).catch(() => ({ stdout: '' }));
    for (const id of tasks.stdout.split('\n').filter(Boolean)) {
      await run('ctr', ['--address', socket, '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
    }
    await kill(pids.containerd, 'containerd', 10_000);
  }
  await killShims(dir);
  await unmountBelow(dir);
  const cgroupRoot = existsSync(join(dir, 'cgroup-root')) ? (await readFile(join(dir, 'cgroup-root'), 'utf8')).trim() : '';
  if (cgroupRoot) await removeCgroups(cgroupRoot);
  await run('ip', ['link', 'del', BRIDGE]).catch(() => undefined);
  await removeHostPathLeftovers(dir);
  await rm(pidsFile, { force: true });
}

/** containerd-shim processes whose state lives in this node's folder. */
async function killShims(dir: string): Promise<void> {
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p)).map(Number)) {
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    if (cmd.includes('containerd-shim') && cmd.includes(dir)) await kill(pid, '', 5_000);
  }
}

async function unmountBelow(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' ') ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
}

/** The kubelet and CNI write a few fixed paths; remove only entries that point into our folder. */
async function removeHostPathLeftovers(dir: string): Promise<void> {
  for (const name of await readdir('/var/log/containers').catch(() => [])) {
    const link = join('/var/log/containers', name);
    try { if (readlinkSync(link).startsWith(dir)) await rm(link, { force: true }); } catch { /* not a link */ }
  }
  await rm('/var/lib/kubelet/device-plugins/kubelet.sock', { force: true });
}
