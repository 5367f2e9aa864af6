import { execFileSync } from 'node:child_process';
import { AGENT_NODE_FLAGS, buildInjectionPatch, DEFAULT_MOUNT_PATH, findNameClashes, parseInjectionRequest, type PodLike } from './pod-injector.js';

const settings = { agentImage: 'img:1', serverUrl: 'https://op:9443', caPem: 'PEM', audience: 'lockstep.dev/agent', sizeLimit: '1Mi' };

function pod(annotations: Record<string, string>, spec: PodLike['spec'] = { containers: [{ name: 'app' }] }): PodLike {
  return { metadata: { name: 'p', annotations }, spec };
}

/** Applies the "add" operations the injector emits (enough of RFC 6902 for these tests). */
function applyPatch(doc: Record<string, unknown>, ops: ReturnType<typeof buildInjectionPatch>): Record<string, unknown> {
  const copy = structuredClone(doc);
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let target: Record<string, unknown> | unknown[] = copy;
    for (const p of parts) target = (target as Record<string, unknown>)[p] as Record<string, unknown>;
    if (Array.isArray(target)) {
      if (last === '-') target.push(op.value);
      else target.splice(Number(last), 0, op.value);
    } else {
      target[last] = op.value;
    }
  }
  return copy;
}

describe('parseInjectionRequest', () => {
  it('reads names, mode, path, file mode and user, with defaults', () => {
    expect(parseInjectionRequest(pod({ 'lockstep.dev/inject': 'db, cache,db' }))).toEqual({
      ok: true, request: { secrets: ['db', 'cache'], mode: 'init', mountPath: DEFAULT_MOUNT_PATH, fileMode: '0444', user: { uid: 65532, gid: 65532 } },
    });
    const r = parseInjectionRequest(pod({
      'lockstep.dev/inject': 'db', 'lockstep.dev/inject-mode': 'sidecar', 'lockstep.dev/inject-path': '/etc/app', 'lockstep.dev/inject-file-mode': '0400', 'lockstep.dev/inject-user': '1000:2000',
    }));
    expect(r).toEqual({ ok: true, request: { secrets: ['db'], mode: 'sidecar', mountPath: '/etc/app', fileMode: '0400', user: { uid: 1000, gid: 2000 } } });
  });

  it.each([
    [{}, 'must name one or more ExternalSecrets'],
    [{ 'lockstep.dev/inject': 'Bad_Name' }, "'Bad_Name' is not an ExternalSecret name"],
    [{ 'lockstep.dev/inject': 'db', 'lockstep.dev/inject-mode': 'daemon' }, 'must be "init" or "sidecar"'],
    [{ 'lockstep.dev/inject': 'db', 'lockstep.dev/inject-path': 'relative' }, 'must be an absolute path'],
    [{ 'lockstep.dev/inject': 'db', 'lockstep.dev/inject-path': '/a/../etc' }, 'must be an absolute path'],
    [{ 'lockstep.dev/inject': 'db', 'lockstep.dev/inject-file-mode': '0044' }, 'the owner can read'],
    [{ 'lockstep.dev/inject': 'db', 'lockstep.dev/inject-user': '0' }, 'must be UID or UID:GID'],
  ])('refuses %j with a message naming the fix', (annotations, message) => {
    const r = parseInjectionRequest(pod(annotations as Record<string, string>));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toContain(message);
  });
});

describe('buildInjectionPatch', () => {
  it('init mode: a memory emptyDir, the token, one init agent first, read-only mounts in every app container', () => {
    const p = pod({ 'lockstep.dev/inject': 'db' }, {
      containers: [{ name: 'app' }, { name: 'log', volumeMounts: [{ name: 'x', mountPath: '/x' }] }],
      initContainers: [{ name: 'migrate' }],
      volumes: [{ name: 'x' }],
    });
    const req = parseInjectionRequest(p);
    if (!req.ok) throw new Error(req.message);
    const out = applyPatch(p as Record<string, unknown>, buildInjectionPatch(p, req.request, settings)) as { metadata: { annotations: Record<string, string> }; spec: Record<string, { name: string; [k: string]: unknown }[]> };
    expect(out.spec['volumes']?.map((v) => v.name)).toEqual(['x', 'lockstep-files', 'lockstep-agent-token']);
    expect(out.spec['volumes']?.[1]).toEqual({ name: 'lockstep-files', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
    expect(JSON.stringify(out.spec['volumes']?.[2])).toContain('"audience":"lockstep.dev/agent","expirationSeconds":600');
    expect(out.spec['initContainers']?.map((c) => c.name)).toEqual(['lockstep-agent-init', 'migrate']);
    const agent = out.spec["initContainers"]?.[0] as unknown as { args: string[]; restartPolicy?: string; securityContext: Record<string, unknown> };
    expect(agent.args).toEqual(expect.arrayContaining(['--mode', 'once', '--secrets', 'db', '--server', 'https://op:9443']));
    expect(agent.restartPolicy).toBeUndefined();
    expect(agent.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    for (const c of [...(out.spec['containers'] ?? []), out.spec['initContainers']?.[1]]) {
      expect(c?.['volumeMounts']).toContainEqual({ name: 'lockstep-files', mountPath: DEFAULT_MOUNT_PATH, readOnly: true });
    }
    expect(out.metadata.annotations['lockstep.dev/injected']).toBe('init:db');
  });

  it('sidecar mode: the init agent, then a native sidecar that keeps the files fresh', () => {
    const p = pod({ 'lockstep.dev/inject': 'db', 'lockstep.dev/inject-mode': 'sidecar' });
    const req = parseInjectionRequest(p);
    if (!req.ok) throw new Error(req.message);
    const out = applyPatch(p as Record<string, unknown>, buildInjectionPatch(p, req.request, settings)) as { spec: { initContainers: { name: string; restartPolicy?: string; args: string[] }[] } };
    expect(out.spec.initContainers.map((c) => [c.name, c.restartPolicy])).toEqual([['lockstep-agent-init', undefined], ['lockstep-agent', 'Always']]);
    expect(out.spec.initContainers[1]?.args).toEqual(expect.arrayContaining(['--mode', 'watch']));
  });

  it('runs the agent with small-memory Node flags and one libuv thread, which this Node accepts', () => {
    const p = pod({ 'lockstep.dev/inject': 'db', 'lockstep.dev/inject-mode': 'sidecar' });
    const req = parseInjectionRequest(p);
    if (!req.ok) throw new Error(req.message);
    const out = applyPatch(p as Record<string, unknown>, buildInjectionPatch(p, req.request, settings)) as { spec: { initContainers: { command: string[]; env: { name: string; value?: string }[] }[] } };
    for (const c of out.spec.initContainers) {
      expect(c.command).toEqual(['/usr/local/bin/node', ...AGENT_NODE_FLAGS, '/app/agent.mjs']);
      expect(c.env).toContainEqual({ name: 'UV_THREADPOOL_SIZE', value: '1' });
    }
    // An unknown or misspelt flag makes node exit with "bad option" before the agent starts.
    expect(execFileSync(process.execPath, [...AGENT_NODE_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' })).toBe('ok');
  });

  it('finds names that would clash with ours', () => {
    expect(findNameClashes(pod({}, { containers: [{ name: 'lockstep-agent' }], volumes: [{ name: 'lockstep-files' }] }))).toEqual(['lockstep-files', 'lockstep-agent']);
    expect(findNameClashes(pod({}))).toEqual([]);
  });
});
