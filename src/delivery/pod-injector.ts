/**
 * What the injection webhook does to a pod that asks for files: pure functions from the pod and
 * the operator's settings to a JSON patch (RFC 6902), or a refusal with a message for the user.
 *
 * The pod gets an in-memory emptyDir for the files, a projected ServiceAccount token of the
 * agent's own audience, and the agent: an init container that fills the files before the app
 * starts, plus (mode sidecar) a native sidecar (`restartPolicy: Always`) that keeps them fresh.
 * The app containers mount the files read-only; only the agent can write them.
 */
import { Annotations } from '../api/constants.js';

export const FILES_VOLUME = 'lockstep-files';
export const TOKEN_VOLUME = 'lockstep-agent-token';
export const AGENT_INIT = 'lockstep-agent-init';
export const AGENT_SIDECAR = 'lockstep-agent';
export const DEFAULT_MOUNT_PATH = '/var/run/secrets/lockstep';
/** Where the agent sees the volumes. */
export const AGENT_FILES_DIR = '/lockstep/files';
export const AGENT_TOKEN_DIR = '/lockstep/token';

export type InjectMode = 'init' | 'sidecar';

/**
 * Node's flags for the agent, which holds a few small files and wakes once per change, so it
 * trades speed it does not need for memory. Measured on the node (e2e/files/files-outage.test.ts),
 * sidecar RSS 58.0 -> 54.2 MB, private (RssAnon) 13.4 -> 11.7 MB, container cgroup 15.0 -> 12.9 MB,
 * threads 11 -> 4. The rest of the RSS (~42 MB) is the Node binary's pages, shared on the node.
 *   --jitless, --optimize-for-size  interpreter only: no compiler code touched or generated
 *   --max-semi-space-size=1         a young generation of 1 MB per semi-space (default up to 16)
 *   --v8-pool-size=1                one V8 worker thread instead of four
 *   --disable-sigusr1               no signal thread, and no debugger can be attached with SIGUSR1
 * With UV_THREADPOOL_SIZE=1 (the agent's file work is one write at a time). --max-old-space-size
 * is left to Node's default (from the container's memory limit): a cap lowers no RSS, and a
 * large volume of files needs more heap than the usual few kilobytes.
 */
export const AGENT_NODE_FLAGS = ['--jitless', '--optimize-for-size', '--max-semi-space-size=1', '--v8-pool-size=1', '--disable-sigusr1'];

export interface InjectorSettings {
  /** The operator's image; the agent is `lockstep agent` in it. */
  agentImage: string;
  /** The operator's address as the agent reaches it (https://...). */
  serverUrl: string;
  /** PEM of the CA that signed the operator's serving certificate. */
  caPem: string;
  /** Audience of the agent's ServiceAccount token (never the apiserver's). */
  audience: string;
  /** Size limit of the in-memory volume. */
  sizeLimit: string;
}

export interface PodLike {
  metadata?: { name?: string; generateName?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: {
    serviceAccountName?: string;
    containers?: ContainerLike[];
    initContainers?: ContainerLike[];
    volumes?: { name: string }[];
  };
}

interface ContainerLike {
  name: string;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

/** What a pod asks for, read from its annotations. */
export interface InjectionRequest {
  secrets: string[];
  mode: InjectMode;
  mountPath: string;
  fileMode: string;
  user: { uid: number; gid: number };
}

export type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown };

/** Reads and checks the pod's annotations; an error message names the annotation to fix. */
export function parseInjectionRequest(pod: PodLike): { ok: true; request: InjectionRequest } | { ok: false; message: string } {
  const a = pod.metadata?.annotations ?? {};
  const secrets = (a[Annotations.inject] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (secrets.length === 0) {
    return { ok: false, message: `annotation ${Annotations.inject} must name one or more ExternalSecrets (comma-separated) to deliver as files` };
  }
  const bad = secrets.find((s) => !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(s) || s.length > 253);
  if (bad) return { ok: false, message: `annotation ${Annotations.inject}: '${bad}' is not an ExternalSecret name` };
  const mode = a[Annotations.injectMode] ?? 'init';
  if (mode !== 'init' && mode !== 'sidecar') {
    return { ok: false, message: `annotation ${Annotations.injectMode} must be "init" or "sidecar", not "${mode}"` };
  }
  const mountPath = a[Annotations.injectPath] ?? DEFAULT_MOUNT_PATH;
  if (!mountPath.startsWith('/') || mountPath.includes('..') || mountPath === '/') {
    return { ok: false, message: `annotation ${Annotations.injectPath} must be an absolute path other than / (got "${mountPath}")` };
  }
  const fileMode = a[Annotations.injectFileMode] ?? '0444';
  if (!/^0?[0-7]{3}$/.test(fileMode) || (parseInt(fileMode, 8) & 0o400) === 0) {
    return { ok: false, message: `annotation ${Annotations.injectFileMode} must be an octal mode the owner can read, such as 0440 (got "${fileMode}")` };
  }
  const user = parseUser(a[Annotations.injectUser]);
  if (!user) return { ok: false, message: `annotation ${Annotations.injectUser} must be UID or UID:GID, numbers above 0 (got "${a[Annotations.injectUser]}")` };
  return { ok: true, request: { secrets: [...new Set(secrets)], mode, mountPath, fileMode, user } };
}

function parseUser(text: string | undefined): { uid: number; gid: number } | undefined {
  if (text === undefined) return { uid: 65532, gid: 65532 };
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(text.trim());
  if (!m) return undefined;
  const uid = Number(m[1]);
  const gid = m[2] === undefined ? uid : Number(m[2]);
  return uid > 0 && gid > 0 ? { uid, gid } : undefined;
}

/** The JSON patch that injects the volumes, the agent and the mounts. */
export function buildInjectionPatch(pod: PodLike, request: InjectionRequest, settings: InjectorSettings): JsonPatchOp[] {
  const spec = pod.spec ?? {};
  const ops: JsonPatchOp[] = [];
  const volumes = [
    { name: FILES_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: settings.sizeLimit } },
    {
      name: TOKEN_VOLUME,
      projected: { sources: [{ serviceAccountToken: { audience: settings.audience, expirationSeconds: 600, path: 'token' } }] },
    },
  ];
  ops.push(...appendAll('/spec/volumes', spec.volumes, volumes));
  const agents: Record<string, unknown>[] = [buildAgent(AGENT_INIT, 'init', request, settings)];
  if (request.mode === 'sidecar') agents.push({ ...buildAgent(AGENT_SIDECAR, 'sidecar', request, settings), restartPolicy: 'Always' });
  // Ours first: the files exist before any other container starts.
  if (spec.initContainers === undefined) {
    ops.push({ op: 'add', path: '/spec/initContainers', value: agents });
  } else {
    agents.forEach((agent, i) => ops.push({ op: 'add', path: `/spec/initContainers/${i}`, value: agent }));
  }
  const mount = { name: FILES_VOLUME, mountPath: request.mountPath, readOnly: true };
  const shift = spec.initContainers === undefined ? 0 : agents.length;
  (spec.initContainers ?? []).forEach((c, i) => ops.push(...appendAll(`/spec/initContainers/${i + shift}/volumeMounts`, c.volumeMounts, [mount])));
  (spec.containers ?? []).forEach((c, i) => ops.push(...appendAll(`/spec/containers/${i}/volumeMounts`, c.volumeMounts, [mount])));
  const annotation = `${request.mode}:${request.secrets.join(',')}`;
  ops.push({ op: 'add', path: `/metadata/annotations/${escapePointer(Annotations.injected)}`, value: annotation });
  return ops;
}

/** The names the pod's containers already use that ours would clash with. */
export function findNameClashes(pod: PodLike): string[] {
  const spec = pod.spec ?? {};
  const taken = new Set([...(spec.volumes ?? []).map((v) => v.name), ...[...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name)]);
  return [FILES_VOLUME, TOKEN_VOLUME, AGENT_INIT, AGENT_SIDECAR].filter((n) => taken.has(n));
}

function buildAgent(name: string, mode: InjectMode, request: InjectionRequest, settings: InjectorSettings) {
  return {
    name,
    image: settings.agentImage,
    imagePullPolicy: 'IfNotPresent',
    command: ['/usr/local/bin/node', ...AGENT_NODE_FLAGS, '/app/agent.mjs'],
    args: [
      '--mode', mode === 'init' ? 'once' : 'watch',
      '--server', settings.serverUrl,
      '--secrets', request.secrets.join(','),
      '--dir', AGENT_FILES_DIR,
      '--token-file', `${AGENT_TOKEN_DIR}/token`,
      '--file-mode', request.fileMode,
    ],
    env: [
      { name: 'LOCKSTEP_CA', value: settings.caPem },
      { name: 'UV_THREADPOOL_SIZE', value: '1' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ],
    volumeMounts: [
      { name: FILES_VOLUME, mountPath: AGENT_FILES_DIR },
      { name: TOKEN_VOLUME, mountPath: AGENT_TOKEN_DIR, readOnly: true },
    ],
    resources: { requests: { cpu: '5m', memory: '24Mi' }, limits: { memory: '64Mi' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: request.user.uid,
      runAsGroup: request.user.gid,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

function appendAll(path: string, existing: unknown[] | undefined, items: unknown[]): JsonPatchOp[] {
  if (existing === undefined) return [{ op: 'add', path, value: items }];
  return items.map((value) => ({ op: 'add', path: `${path}/-`, value }));
}

/** RFC 6901: `~` and `/` in a key. */
function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
