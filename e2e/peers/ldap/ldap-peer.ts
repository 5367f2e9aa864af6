// OpenLDAP's slapd (Debian) as a test peer for Vault's LDAP auth method: install.sh installs it
// (and the OpenBao that still has LDAP auth built in); this file writes a slapd.conf and a
// directory in a temp folder, loads the directory with slapadd, and runs slapd in the foreground on
// ldap://127.0.0.1:<free port>, stopped by pid. Passwords are stored salted-SHA1 ({SSHA}), as
// slappasswd writes them, and only binding may use them (the ACL below).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, PeerProcess, runInstallScript } from '../peer-support.js';

const run = promisify(execFile);

export const BASE_DN = 'dc=lockstep,dc=test';
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
export const GROUPS_DN = `ou=groups,${BASE_DN}`;
/** The account OpenBao binds as to find users and their groups. */
export const SEARCH_DN = `cn=openbao,ou=services,${BASE_DN}`;

export interface LdapUser {
  uid: string;
  password: string;
}

export interface LdapDirectory {
  users: LdapUser[];
  /** Group cn → member uids (groupOfNames, `member` holds the user's DN). */
  groups: Record<string, string[]>;
  /** The password of SEARCH_DN. */
  searchPassword: string;
}

export interface LdapPeer {
  /** ldap://127.0.0.1:PORT */
  url: string;
  logFile: string;
  pid(): number | undefined;
  /** Stops slapd (SIGTERM, then SIGKILL), by pid. Idempotent; removes its temp folder. */
  stop(): Promise<void>;
}

export interface LdapInstall {
  /** The OpenBao binary with the LDAP auth method built in. */
  bao: string;
  slapd: string;
  slapadd: string;
}

/** Runs install.sh once per process. */
export async function installLdapPeer(): Promise<LdapInstall> {
  const dir = await runInstallScript(import.meta.dirname, 600_000);
  return { bao: join(dir, 'bin/bao'), slapd: join(dir, 'bin/slapd'), slapadd: join(dir, 'bin/slapadd') };
}

export const userDn = (uid: string) => `uid=${uid},${PEOPLE_DN}`;

/** {SSHA}: base64 of SHA-1(password + salt) followed by the salt. */
function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

function entry(dn: string, attrs: [string, string][]): string {
  return [`dn: ${dn}`, ...attrs.map(([k, v]) => `${k}: ${v}`)].join('\n');
}

function ldif(dir: LdapDirectory): string {
  const entries = [
    entry(BASE_DN, [['objectClass', 'dcObject'], ['objectClass', 'organization'], ['o', 'Lockstep test'], ['dc', 'lockstep']]),
    ...['people', 'groups', 'services'].map((ou) => entry(`ou=${ou},${BASE_DN}`, [['objectClass', 'organizationalUnit'], ['ou', ou]])),
    entry(SEARCH_DN, [['objectClass', 'organizationalRole'], ['objectClass', 'simpleSecurityObject'], ['cn', 'openbao'], ['userPassword', ssha(dir.searchPassword)]]),
    ...dir.users.map((u) => entry(userDn(u.uid), [
      ['objectClass', 'inetOrgPerson'], ['uid', u.uid], ['cn', u.uid], ['sn', u.uid], ['userPassword', ssha(u.password)],
    ])),
    ...Object.entries(dir.groups).map(([cn, members]) => entry(`cn=${cn},${GROUPS_DN}`, [
      ['objectClass', 'groupOfNames'], ['cn', cn], ...members.map((m): [string, string] => ['member', userDn(m)]),
    ])),
  ];
  return `${entries.join('\n\n')}\n`;
}

function slapdConf(folder: string): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    `pidfile ${join(folder, 'slapd.pid')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'database mdb',
    `suffix "${BASE_DN}"`,
    `directory ${join(folder, 'db')}`,
    'maxsize 16777216',
    // Passwords are only for binding; bound users may read the rest; anonymous users nothing.
    'access to attrs=userPassword by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n');
}

/** Starts slapd with a new directory holding `dir`. */
export async function startLdapPeer(dir: LdapDirectory): Promise<LdapPeer> {
  const { slapd, slapadd } = await installLdapPeer();
  const folder = await mkdtemp(join(tmpdir(), 'lockstep-slapd-'));
  const conf = join(folder, 'slapd.conf');
  await writeFile(conf, slapdConf(folder));
  await writeFile(join(folder, 'seed.ldif'), ldif(dir));
  await mkdir(join(folder, 'db'));
  await run(slapadd, ['-f', conf, '-l', join(folder, 'seed.ldif')]);
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const logFile = join(folder, 'slapd.log');
  const server = new PeerProcess({
    name: 'slapd',
    command: slapd,
    // -d 0: stay in the foreground (no fork), so the pid is slapd's; -h: only this loopback listener.
    args: ['-f', conf, '-h', `${url}/`, '-d', '0'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: folder,
    logFile,
    probe: () => new Promise((ok) => {
      const socket = connect(port, '127.0.0.1', () => (socket.end(), ok(true)));
      socket.on('error', () => ok(false));
    }),
    startTimeoutMs: 30_000,
  });
  await server.start();
  return {
    url,
    logFile,
    pid: () => server.pid(),
    async stop() {
      await server.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
