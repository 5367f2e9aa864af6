import { parse } from 'yaml';
import { checkManifests } from '../check/check-manifests.js';
import { parseManifests } from '../check/manifest-reader.js';
import { migrateManifests, type MigrateOptions } from './migrate-manifests.js';

function migrate(text: string, options: MigrateOptions = {}) {
  const [file] = migrateManifests([parseManifests('in.yaml', text)], options);
  if (!file) throw new Error('no output');
  const docs = file.text.split(/^---$/m).map((d) => parse(d) as { kind: string; spec: { provider: Record<string, unknown>; conditions?: unknown } });
  const store = docs.find((d) => d?.kind?.endsWith('SecretStore'));
  const errors = checkManifests([parseManifests('out.yaml', file.text)]).filter((f) => f.severity === 'error').map((f) => f.message);
  const object = file.objects.find((o) => o.kind.endsWith('SecretStore'));
  return { spec: store?.spec, object, errors, problems: object?.problems.map((p) => `${p.level} ${p.field}`) ?? [] };
}

const store = (provider: string, kind = 'SecretStore', extra = '') => `apiVersion: external-secrets.io/v1
kind: ${kind}
metadata: { name: s${kind === 'SecretStore' ? ', namespace: team-a' : ''} }
spec:
${extra}  provider:
${provider}`;

const ref = (name: string, key: string, ns = '') => `{ name: ${name}, key: ${key}${ns ? `, namespace: ${ns}` : ''} }`;

describe('store conversion rules', () => {
  it('aws: static keys, role and jwt keep their shape; service SecretsManager is dropped', () => {
    const r = migrate(store(`    aws:
      service: SecretsManager
      region: eu-west-1
      role: arn:aws:iam::123456789012:role/reader
      auth:
        secretRef:
          accessKeyIDSecretRef: ${ref('aws', 'id')}
          secretAccessKeySecretRef: ${ref('aws', 'secret')}
`));
    expect(r.spec?.provider).toEqual({
      aws: {
        region: 'eu-west-1',
        role: 'arn:aws:iam::123456789012:role/reader',
        auth: { secretRef: { accessKeyIDSecretRef: { name: 'aws', key: 'id' }, secretAccessKeySecretRef: { name: 'aws', key: 'secret' } } },
      },
    });
    expect(r.problems).toEqual(['dropped spec.provider.aws.service']);
    expect(r.errors).toEqual([]);
  });

  it('aws: ParameterStore, no auth and prefix are unsupported', () => {
    const r = migrate(store('    aws: { service: ParameterStore, region: eu-west-1, prefix: team-a/ }\n'));
    expect(r.object?.outcome).toBe('partial');
    expect(r.problems).toEqual(expect.arrayContaining(['unsupported spec.provider.aws.service', 'unsupported spec.provider.aws.auth', 'unsupported spec.provider.aws.prefix']));
  });

  const arn = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

  it('aws: role chaining with static keys keeps ESO\'s spelling and order (additionalRoles, then role with externalID and tags)', () => {
    const r = migrate(store(`    aws:
      region: eu-west-1
      role: ${arn('final')}
      additionalRoles: [ ${arn('hop-1')}, ${arn('hop-2')} ]
      externalID: team-a-4711
      sessionTags: [ { key: team, value: a } ]
      transitiveTagKeys: [ team ]
      auth: { secretRef: { accessKeyIDSecretRef: ${ref('aws', 'id')}, secretAccessKeySecretRef: ${ref('aws', 'secret')} } }
`));
    expect(r.spec?.provider).toMatchObject({
      aws: { role: arn('final'), additionalRoles: [arn('hop-1'), arn('hop-2')], externalID: 'team-a-4711', sessionTags: [{ key: 'team', value: 'a' }], transitiveTagKeys: ['team'] },
    });
    expect(r.problems).toEqual([]);
    expect(r.errors).toEqual([]);
  });

  it("aws: with jwt, the ServiceAccount's IRSA role becomes role and ESO's additionalRoles and role follow it", () => {
    const sa = `apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: irsa, namespace: team-a, annotations: { eks.amazonaws.com/role-arn: "${arn('irsa')}" } }\n---\n`;
    const provider = (extra: string) => `    aws:\n      region: eu-west-1\n      role: ${arn('final')}\n      additionalRoles: [ ${arn('hop')} ]\n${extra}      auth: { jwt: { serviceAccountRef: { name: irsa } } }\n`;
    const r = migrate(sa + store(provider('')));
    expect(r.spec?.provider).toMatchObject({ aws: { role: arn('irsa'), additionalRoles: [arn('hop'), arn('final')] } });
    expect(r.problems).toEqual(['note spec.provider.aws.role']);
    expect(r.errors).toEqual([]);
    const tagged = migrate(sa + store(provider('      externalID: x-1\n')));
    expect(tagged.problems).toContain('unsupported spec.provider.aws.externalID');
    const unknown = migrate(store(provider('')));
    expect(unknown.spec?.provider).toMatchObject({ aws: { role: arn('final'), additionalRoles: [arn('hop')] } });
    expect(unknown.problems).toEqual(['review spec.provider.aws.additionalRoles']);
  });

  it('vault: token, appRole, kubernetes and the jwt token spelling', () => {
    const vault = (auth: string) => migrate(store(`    vault:\n      server: https://vault:8200\n      path: secret\n      version: v2\n      auth:\n${auth}`));
    expect(vault(`        tokenSecretRef: ${ref('t', 'token')}\n`).errors).toEqual([]);
    expect(vault(`        appRole: { path: approle, roleId: r-1, secretRef: ${ref('ar', 'secret-id')} }\n`).spec?.provider).toMatchObject({ vault: { auth: { appRole: { roleId: 'r-1' } } } });
    expect(vault('        kubernetes: { mountPath: kubernetes, role: app, serviceAccountRef: { name: app } }\n').errors).toEqual([]);
    const jwt = vault('        jwt: { path: jwt, role: app, kubernetesServiceAccountToken: { serviceAccountRef: { name: app }, audiences: [vault], expirationSeconds: 600 } }\n');
    expect(jwt.spec?.provider).toEqual({ vault: { server: 'https://vault:8200', path: 'secret', version: 'v2', auth: { jwt: { path: 'jwt', role: 'app', serviceAccountRef: { name: 'app', audiences: ['vault'] } } } } });
    expect(jwt.problems).toEqual(['dropped spec.provider.vault.auth.jwt.kubernetesServiceAccountToken.expirationSeconds']);
    expect(jwt.errors).toEqual([]);
  });

  it.each(['userPass', 'ldap'])('vault: %s keeps its shape', (method) => {
    const r = migrate(store(`    vault:\n      server: https://vault:8200\n      path: secret\n      auth:\n        ${method}: { path: people, username: u, secretRef: ${ref('p', 'password')} }\n`));
    expect(r.spec?.provider).toEqual({ vault: { server: 'https://vault:8200', path: 'secret', auth: { [method]: { path: 'people', username: 'u', secretRef: { name: 'p', key: 'password' } } } } });
    expect(r.object?.outcome).toBe('converted');
    expect(r.errors).toEqual([]);
  });

  it('vault: cert (TLS certificate auth) keeps its shape', () => {
    const r = migrate(store(`    vault:\n      server: https://vault:8200\n      path: secret\n      auth:\n        cert: { clientCert: ${ref('c', 'tls.crt')}, secretRef: ${ref('c', 'tls.key')} }\n`));
    expect(r.spec?.provider).toEqual({ vault: { server: 'https://vault:8200', path: 'secret', auth: { cert: { clientCert: { name: 'c', key: 'tls.crt' }, secretRef: { name: 'c', key: 'tls.key' } } } } });
    expect(r.object?.outcome).toBe('converted');
    expect(r.errors).toEqual([]);
    const plain = migrate(store(`    vault:\n      server: http://vault:8200\n      path: secret\n      auth:\n        cert: { clientCert: ${ref('c', 'tls.crt')}, secretRef: ${ref('c', 'tls.key')} }\n`));
    expect(plain.problems).toEqual(['unsupported spec.provider.vault.auth.cert']);
  });

  it('vault: tls (a client certificate on every request) keeps its shape', () => {
    const base = (server: string, tls: string) => store(`    vault:\n      server: ${server}\n      path: secret\n      tls:\n${tls}      auth:\n        tokenSecretRef: ${ref('t', 'token')}\n`);
    const r = migrate(base('https://vault:8200', `        certSecretRef: ${ref('client', 'tls.crt')}\n        keySecretRef: ${ref('client', 'tls.key')}\n`));
    expect(r.spec?.provider).toEqual({ vault: {
      server: 'https://vault:8200', path: 'secret',
      tls: { certSecretRef: { name: 'client', key: 'tls.crt' }, keySecretRef: { name: 'client', key: 'tls.key' } },
      auth: { tokenSecretRef: { name: 't', key: 'token' } },
    } });
    expect(r.object?.outcome).toBe('converted');
    expect(r.problems).toEqual([]);
    expect(r.errors).toEqual([]);
  });

  it("vault: tls refs without key get ESO's defaults tls.crt and tls.key, written out", () => {
    const r = migrate(store(`    vault:\n      server: https://vault:8200\n      path: secret\n      tls: { certSecretRef: { name: client }, keySecretRef: { name: client } }\n      auth: { tokenSecretRef: ${ref('t', 'token')} }\n`));
    expect(r.spec?.provider).toMatchObject({ vault: { tls: { certSecretRef: { name: 'client', key: 'tls.crt' }, keySecretRef: { name: 'client', key: 'tls.key' } } } });
    expect(r.problems).toEqual(['note spec.provider.vault.tls.certSecretRef.key', 'note spec.provider.vault.tls.keySecretRef.key']);
    expect(r.errors).toEqual([]);
  });

  it.each([
    ['with one ref alone (ESO refuses the store)', 'https://vault:8200', `{ certSecretRef: ${ref('client', 'tls.crt')} }`, 'unsupported spec.provider.vault.tls'],
    ['over plain http (ESO never presents it)', 'http://vault:8200', `{ certSecretRef: ${ref('client', 'tls.crt')}, keySecretRef: ${ref('client', 'tls.key')} }`, 'review spec.provider.vault.tls'],
    ['empty (ESO presents nothing)', 'https://vault:8200', '{}', 'dropped spec.provider.vault.tls'],
  ])('vault: tls %s is removed', (_what, server, tls, problem) => {
    const r = migrate(store(`    vault:\n      server: ${server}\n      path: secret\n      tls: ${tls}\n      auth: { tokenSecretRef: ${ref('t', 'token')} }\n`));
    expect(r.spec?.provider).not.toHaveProperty('vault.tls');
    expect(r.problems).toEqual([problem]);
    expect(r.errors).toEqual([]);
  });

  it.each([
    ['cert without clientCert', `        cert: { secretRef: ${ref('c', 'tls.key')} }\n`, 'spec.provider.vault.auth.cert.clientCert'],
    ['iam', '        iam: { region: eu-west-1, role: r }\n', 'spec.provider.vault.auth.iam'],
    ['kubernetes.secretRef', `        kubernetes: { role: app, secretRef: ${ref('sa-token', 'token')} }\n`, 'spec.provider.vault.auth.kubernetes.secretRef'],
    ['appRole.roleRef', `        appRole: { roleRef: ${ref('r', 'id')}, secretRef: ${ref('r', 'secret')} }\n`, 'spec.provider.vault.auth.appRole.roleRef'],
  ])('vault: %s is unsupported', (_what, auth, field) => {
    const r = migrate(store(`    vault:\n      server: https://vault:8200\n      path: secret\n      auth:\n${auth}`));
    expect(r.problems).toContain(`unsupported ${field}`);
  });

  it('gcp: a service-account key keeps its shape; gcpsm becomes gcp', () => {
    const r = migrate(store(`    gcpsm:\n      projectID: my-project-1\n      auth: { secretRef: { secretAccessKeySecretRef: ${ref('gcp', 'key.json')} } }\n`));
    expect(r.spec?.provider).toEqual({ gcp: { projectID: 'my-project-1', auth: { secretRef: { secretAccessKeySecretRef: { name: 'gcp', key: 'key.json' } } } } });
    expect(r.errors).toEqual([]);
  });

  it('gcp: GKE workload identity gets its audience, and the Google account from the ServiceAccount in the files', () => {
    const sa = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: gsm, namespace: team-a, annotations: { iam.gke.io/gcp-service-account: reader@my-project-1.iam.gserviceaccount.com } }\n---\n';
    const css = store('    gcpsm:\n      projectID: my-project-1\n      auth:\n        workloadIdentity: { clusterLocation: europe-west1, clusterName: prod, serviceAccountRef: { name: gsm } }\n');
    const r = migrate(sa + css);
    expect(r.spec?.provider).toEqual({
      gcp: {
        projectID: 'my-project-1',
        auth: {
          workloadIdentity: {
            serviceAccountRef: { name: 'gsm', audiences: ['my-project-1.svc.id.goog'] },
            audience: 'identitynamespace:my-project-1.svc.id.goog:https://container.googleapis.com/v1/projects/my-project-1/locations/europe-west1/clusters/prod',
            serviceAccountEmail: 'reader@my-project-1.iam.gserviceaccount.com',
          },
        },
      },
    });
    expect(r.object?.outcome).toBe('converted');
    expect(r.errors).toEqual([]);
    const alone = migrate(css);
    expect(alone.problems).toEqual(['review spec.provider.gcp.auth.workloadIdentity.serviceAccountRef']);
    const noCluster = migrate(store('    gcpsm:\n      projectID: my-project-1\n      auth: { workloadIdentity: { serviceAccountRef: { name: gsm } } }\n'));
    expect(noCluster.problems).toContain('unsupported spec.provider.gcp.auth.workloadIdentity');
    const flagged = migrate(store('    gcpsm:\n      projectID: my-project-1\n      auth: { workloadIdentity: { serviceAccountRef: { name: gsm } } }\n'), { gkeCluster: 'host-proj-9/us-central1/prod' });
    expect(flagged.spec?.provider).toMatchObject({ gcp: { auth: { workloadIdentity: {
      audience: 'identitynamespace:host-proj-9.svc.id.goog:https://container.googleapis.com/v1/projects/host-proj-9/locations/us-central1/clusters/prod',
      serviceAccountRef: { name: 'gsm', audiences: ['host-proj-9.svc.id.goog'] },
    } } } });
    expect(flagged.problems).toEqual(['note spec.provider.gcp.auth.workloadIdentity', 'review spec.provider.gcp.auth.workloadIdentity.serviceAccountRef']);
  });

  it('azure: service principal, managed identity and workload identity', () => {
    const base = '    azurekv:\n      vaultUrl: https://v.vault.azure.net\n      tenantId: 00000000-0000-0000-0000-000000000001\n';
    const sp = migrate(store(`${base}      authSecretRef: { clientId: ${ref('sp', 'id')}, clientSecret: ${ref('sp', 'secret')} }\n`));
    expect(sp.spec?.provider).toEqual({ azure: { vaultUrl: 'https://v.vault.azure.net', tenantId: '00000000-0000-0000-0000-000000000001', auth: { servicePrincipal: { clientIdSecretRef: { name: 'sp', key: 'id' }, clientSecretSecretRef: { name: 'sp', key: 'secret' } } } } });
    expect(sp.errors).toEqual([]);
    const mi = migrate(store(`${base}      authType: ManagedIdentity\n      identityId: 00000000-0000-0000-0000-000000000002\n`));
    expect(mi.spec?.provider).toMatchObject({ azure: { auth: { managedIdentity: { clientId: '00000000-0000-0000-0000-000000000002' } } } });
    expect(mi.errors).toEqual([]);
    const sa = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: kv, namespace: team-a, annotations: { azure.workload.identity/client-id: 00000000-0000-0000-0000-000000000003 } }\n---\n';
    const wi = migrate(sa + store(`${base}      authType: WorkloadIdentity\n      serviceAccountRef: { name: kv }\n`));
    expect(wi.spec?.provider).toMatchObject({ azure: { auth: { workloadIdentity: { serviceAccountRef: { name: 'kv' }, clientId: '00000000-0000-0000-0000-000000000003' } } } });
    expect(wi.object?.outcome).toBe('converted');
    expect(wi.errors).toEqual([]);
    const cert = migrate(store(`${base}      authSecretRef: { clientId: ${ref('sp', 'id')}, clientCertificate: ${ref('sp', 'cert')} }\n`));
    expect(cert.problems).toContain('unsupported spec.provider.azure.authSecretRef.clientCertificate');
  });

  it('fake: valueMap becomes a JSON value', () => {
    const r = migrate(store('    fake:\n      data:\n        - { key: db, valueMap: { user: app, password: pw } }\n        - { key: t, value: v, version: v1 }\n'));
    expect(r.spec?.provider).toEqual({ fake: { data: [{ key: 'db', value: '{"user":"app","password":"pw"}' }, { key: 't', value: 'v', version: 'v1' }] } });
    expect(r.errors).toEqual([]);
  });

  it('drops what has no Lockstep meaning, and refuses providers Lockstep lacks', () => {
    const r = migrate(store(`    vault: { server: "https://v:8200", path: secret, auth: { tokenSecretRef: ${ref('t', 'token')} } }\n`, 'SecretStore', '  controller: dev\n  refreshInterval: 60\n  retrySettings: { maxRetries: 3 }\n'));
    expect(r.problems).toEqual(['dropped spec.controller', 'dropped spec.refreshInterval', 'dropped spec.retrySettings']);
    expect(r.object?.outcome).toBe('converted');
    const other = migrate(store('    doppler: { auth: {} }\n'));
    expect(other.problems).toEqual(['unsupported spec.provider.doppler']);
  });

  it('ClusterSecretStore conditions: namespaces, selectors and regexes stay', () => {
    const vault = `    vault: { server: "https://v:8200", path: secret, auth: { tokenSecretRef: ${ref('t', 'token', 'ops')} } }\n`;
    const kept = migrate(store(vault, 'ClusterSecretStore', '  conditions:\n    - namespaces: [a]\n    - namespaceSelector: { matchLabels: { tier: gold } }\n    - namespaceRegexes: ["^team-"]\n'));
    expect(kept.spec?.conditions).toEqual([{ namespaces: ['a'] }, { namespaceSelector: { matchLabels: { tier: 'gold' } } }, { namespaceRegexes: ['^team-'] }]);
    expect(kept.object?.outcome).toBe('converted');
    expect(kept.errors).toEqual([]);
  });

  it('a condition left empty fails closed', () => {
    const vault = `    vault: { server: "https://v:8200", path: secret, auth: { tokenSecretRef: ${ref('t', 'token', 'ops')} } }\n`;
    const r = migrate(store(vault, 'ClusterSecretStore', '  conditions:\n    - namespaceNames: [a]\n'));
    expect(r.spec?.conditions).toEqual([{ namespaces: [] }]);
    expect([...r.problems].sort()).toEqual(['unsupported spec.conditions', 'unsupported spec.conditions[0].namespaceNames']);
  });
});
