// The operator logs in to OpenBao with the LDAP auth method, which checks the password against a
// real OpenLDAP slapd on 127.0.0.1 and maps the user's LDAP groups to Vault policies: a user in
// the readers group syncs its ExternalSecret; a wrong password makes the store and the
// ExternalSecret Ready=False with Vault's reason; a user whose group maps to a policy that cannot
// read the path is told so. OpenBao 2.6.2 (the last with LDAP auth built in; see
// e2e/peers/ldap/install.sh). Nothing the operator prints contains a password, a value or a token.
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { GROUPS_DN, installLdapPeer, type LdapPeer, PEOPLE_DN, SEARCH_DN, startLdapPeer } from '../peers/ldap/ldap-peer.js';
import { startVaultPeer, type VaultPeer } from '../peers/vault/vault-peer.js';
import { findLeaks } from '../support/leaks.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, decodeData, externalSecret, getJson, readyOf, type Condition } from '../support/resources.js';

const run = Math.random().toString(16).slice(2, 8);
const PASSWORDS = {
  alice: `alice-ldap-${run}-pw`,
  bob: `bob-ldap-${run}-pw`,
  carol: `carol-ldap-${run}-pw`,
  search: `openbao-search-${run}-pw`,
};
const WRONG_PASSWORD = `not-carols-${run}-pw`;
const VALUE = `vault-ldap-e2e-${run}-value`;

let cluster: TestCluster;
let ldap: LdapPeer;
let vault: VaultPeer;
let op: RunningOperator;
let ns: string;
let opNs: string;
const tokens: string[] = [];

beforeAll(async () => {
  cluster = loadTestCluster();
  const { bao } = await installLdapPeer();
  ldap = await startLdapPeer({
    users: [{ uid: 'alice', password: PASSWORDS.alice }, { uid: 'bob', password: PASSWORDS.bob }, { uid: 'carol', password: PASSWORDS.carol }],
    groups: { readers: ['alice', 'carol'], outsiders: ['bob'] },
    searchPassword: PASSWORDS.search,
  });
  vault = await startVaultPeer({
    binary: bao,
    seed: async (p) => {
      await p.admin('PUT', 'sys/policies/acl/team-read', { policy: 'path "secret/data/team/*" { capabilities = ["read"] }' });
      await p.admin('PUT', 'sys/policies/acl/other-read', { policy: 'path "secret/data/other/*" { capabilities = ["read"] }' });
      await p.admin('POST', 'sys/auth/ldap', { type: 'ldap' });
      // Users are found under PEOPLE_DN by uid with the search account; groups are the groupOfNames
      // under GROUPS_DN whose member is the user's DN (OpenBao's default group filter).
      await p.admin('POST', 'auth/ldap/config', {
        url: ldap.url, binddn: SEARCH_DN, bindpass: PASSWORDS.search, userdn: PEOPLE_DN, userattr: 'uid', groupdn: GROUPS_DN, groupattr: 'cn',
        token_ttl: '1h',
      });
      await p.admin('POST', 'auth/ldap/groups/readers', { policies: 'team-read' });
      await p.admin('POST', 'auth/ldap/groups/outsiders', { policies: 'other-read' });
    },
  });
  await vault.admin('POST', 'secret/data/team/db', { data: { password: VALUE } });
  ns = await cluster.createNamespace('vault-ldap');
  for (const [name, password] of [['alice-ldap', PASSWORDS.alice], ['bob-ldap', PASSWORDS.bob], ['carol-wrong', WRONG_PASSWORD]] as const) {
    await cluster.kubectl(['-n', ns, 'create', 'secret', 'generic', name, `--from-literal=password=${password}`]);
  }
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns });
}, 300_000);

afterAll(async () => {
  await op?.stop();
  await vault?.stop();
  await ldap?.stop();
  if (ns) await cluster.deleteNamespace(ns);
  if (opNs) await cluster.deleteNamespace(opNs);
});

function ldapStore(name: string, username: string, secret: string): string {
  return JSON.stringify({
    apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name, namespace: ns },
    spec: { provider: { vault: { server: vault.endpoint, path: 'secret', version: 'v2', auth: { ldap: { username, secretRef: { name: secret, key: 'password' } } } } } },
  });
}

async function readyStatus(kind: string, name: string, status: 'True' | 'False', what: string): Promise<Condition> {
  return eventually(async () => {
    const r = readyOf(await getJson(cluster, kind, ns, name));
    return r?.status === status ? r : undefined;
  }, 30_000, what);
}

describe('operator with a Vault store and LDAP auth against OpenLDAP', () => {
  it('the directory checks the password, and a user of a group mapped to a policy that reads the path syncs', async () => {
    // The login itself, as Vault sees it: the user's groups from the directory become policies.
    const login = await vault.admin('POST', 'auth/ldap/login/alice', { password: PASSWORDS.alice }, '');
    tokens.push(login?.auth?.client_token ?? '');
    const self = await vault.admin('GET', 'auth/token/lookup-self', undefined, login?.auth?.client_token);
    expect(self?.data?.policies).toEqual(['default', 'team-read']);

    await apply(cluster, ldapStore('ldap', 'alice', 'alice-ldap'));
    await readyStatus('secretstore', 'ldap', 'True', 'store Ready');
    await apply(cluster, externalSecret(ns, 'db', { secretStoreRef: { name: 'ldap' }, data: [{ secretKey: 'password', remoteRef: { key: 'team/db', property: 'password' } }] }));
    await readyStatus('externalsecret', 'db', 'True', 'db Ready');
    expect(decodeData(await getJson(cluster, 'secret', ns, 'db'))).toEqual({ password: VALUE });
  });

  it('a wrong password makes the store and the ExternalSecret Ready=False with Vault\'s reason, naming the user, not the password', async () => {
    await apply(cluster, ldapStore('ldap-wrong', 'carol', 'carol-wrong'));
    const store = await readyStatus('secretstore', 'ldap-wrong', 'False', 'wrong-password store Ready=False');
    expect(store.message).toMatch(/logging in with ldap user 'carol' \(auth\/ldap\): Vault answered 400: .*failed to bind as user/);
    await apply(cluster, externalSecret(ns, 'by-carol', { secretStoreRef: { name: 'ldap-wrong' }, data: [{ secretKey: 'password', remoteRef: { key: 'team/db', property: 'password' } }] }));
    const es = await readyStatus('externalsecret', 'by-carol', 'False', 'by-carol Ready=False');
    expect(`${es.reason}: ${es.message}`).toMatch(/ldap user 'carol'/);
    for (const text of [store.message, es.message]) expect(findLeaks(text, [WRONG_PASSWORD, PASSWORDS.carol, VALUE])).toEqual([]);
    expect(await getJson(cluster, 'secret', ns, 'by-carol')).toBeUndefined();
    console.log(`a wrong LDAP password: store ${store.reason}: ${store.message}\nExternalSecret ${es.reason}: ${es.message}`);
  });

  it('a user whose group maps to a policy that cannot read the path logs in, and the ExternalSecret says permission denied', async () => {
    await apply(cluster, ldapStore('ldap-bob', 'bob', 'bob-ldap'));
    await readyStatus('secretstore', 'ldap-bob', 'True', 'bob store Ready (the login works)');
    await apply(cluster, externalSecret(ns, 'by-bob', { secretStoreRef: { name: 'ldap-bob' }, data: [{ secretKey: 'password', remoteRef: { key: 'team/db', property: 'password' } }] }));
    const es = await readyStatus('externalsecret', 'by-bob', 'False', 'by-bob Ready=False');
    expect(es.message).toBe("reading remote key 'team/db' in secret/ (KV v2): Vault answered 403: permission denied (check the token's policies and the auth configuration)");
    expect(findLeaks(es.message, [PASSWORDS.bob, VALUE])).toEqual([]);
    expect(await getJson(cluster, 'secret', ns, 'by-bob')).toBeUndefined();
    console.log(`an LDAP group without the policy: ExternalSecret ${es.reason}: ${es.message}`);
  });

  it('never prints a password, a value or a token', () => {
    expect(findLeaks(op.output(), [...Object.values(PASSWORDS), WRONG_PASSWORD, VALUE, ...tokens.filter(Boolean)])).toEqual([]);
  });
});
