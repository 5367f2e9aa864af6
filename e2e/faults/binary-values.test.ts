// Binary and non-UTF-8 values end to end (issue 12, point 6): AWS Secrets Manager secrets whose
// SecretBinary holds bytes that are not valid UTF-8 (every byte 0x00-0xff, lone continuation bytes,
// truncated sequences, NUL), on moto with IAM enforced, synced by the operator into Kubernetes
// Secrets on the real apiserver. What must hold, byte for byte:
// - a `property`-less ref, `dataFrom.find` and a template that embeds the value write the exact bytes;
// - decodingStrategy Base64 turns base64 text (as SecretBinary or SecretString) into the exact bytes,
//   and Auto leaves bytes that are not base64 as they are;
// - a rotation that changes one byte is synced; an unchanged binary value is never written again;
// - what cannot work fails clearly, without the value in the message: `property` or `extract` on
//   bytes that are not JSON (InvalidSpec), decodingStrategy Base64 on bytes that are not base64;
// - a JSON SecretBinary whose strings hold invalid UTF-8 gives U+FFFD for them, as ESO (Go's
//   encoding/json) does, and the README says so.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { eventually, loadTestCluster, type TestCluster } from '../harness/cluster.js';
import { startAwsPeer, type AwsPeer } from '../peers/aws/aws-peer.js';
import { enforceIam, REGION, type MotoPrincipals } from '../peers/aws/moto-iam.js';
import { prepareCluster, startOperator, type RunningOperator } from '../support/operator.js';
import { apply, externalSecret, getJson, readyOf, type Condition } from '../support/resources.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.METADATA_SERVER_DETECTION = 'none';

/** Bytes no UTF-8 decoder keeps: every byte value, then the classic invalid sequences, then noise. */
function nonUtf8(seed: number): Buffer {
  const every = Buffer.from(Array.from({ length: 256 }, (_, i) => (i + seed) % 256));
  const invalid = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80, 0xbf, 0xe2, 0x82, 0xf0, 0x9f, 0x98, 0x00, 0xed, 0xa0, 0x80, 0xc0, 0xaf]);
  return Buffer.concat([invalid, every, randomBytes(64), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])]);
}

const raw = nonUtf8(0);
const rotated = Buffer.from(raw);
rotated[100] = (rotated[100] ?? 0) ^ 0x01; // one bit of one byte
const other = nonUtf8(7);
/** A JSON object whose string holds invalid UTF-8 (0xff 0xfe): Go and Lockstep read U+FFFD there. */
const jsonWithBadBytes = Buffer.concat([Buffer.from('{"name":"app","blob":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('z"}')]);

let cluster: TestCluster;
let peer: AwsPeer;
let principals: MotoPrincipals;
let admin: SecretsManagerClient;
let op: RunningOperator;
let ns: string;
let opNs: string;
const figures: string[] = [];

async function secretBytes(name: string): Promise<Record<string, Buffer>> {
  const secret = await getJson(cluster, 'secret', ns, name);
  return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

async function waitReady(name: string, status: 'True' | 'False', reason?: string, timeoutMs = 60_000): Promise<Condition> {
  return eventually(async () => {
    const c = readyOf(await getJson(cluster, 'externalsecret', ns, name));
    if (c?.status === status && (!reason || c.reason === reason)) return c;
    return undefined;
  }, timeoutMs, `${name} Ready=${status}${reason ? ` ${reason}` : ''}`);
}

/** The hex of the first byte that differs, for a readable failure. */
function diff(name: string, got: Buffer | undefined, want: Buffer): string | undefined {
  if (got?.equals(want)) return undefined;
  if (!got) return `${name}: missing`;
  const at = [...want].findIndex((b, i) => got[i] !== b);
  return `${name}: ${got.length} bytes (want ${want.length}); first difference at ${at}: ${got.subarray(at, at + 4).toString('hex')} instead of ${want.subarray(at, at + 4).toString('hex')}`;
}

/** Every value served, in the forms a leak would take (raw bytes as latin1 or UTF-8 text, base64, hex). */
function leakForms(): string[] {
  return [raw, rotated, other].flatMap((b) => [b.toString('base64').slice(0, 40), b.toString('hex').slice(0, 40), b.subarray(17, 60).toString('latin1')]);
}

beforeAll(async () => {
  cluster = loadTestCluster();
  peer = await startAwsPeer({ startTimeoutMs: 600_000 });
  principals = await enforceIam(peer);
  admin = new SecretsManagerClient({ region: REGION, endpoint: peer.endpoint, credentials: principals.admin, maxAttempts: 1 });
  const create = (Name: string, value: Buffer | string) =>
    admin.send(new CreateSecretCommand(typeof value === 'string' ? { Name, SecretString: value } : { Name, SecretBinary: value }));
  await create('bin/raw', raw);
  await create('bin/other', other);
  await create('bin/b64-binary', Buffer.from(raw.toString('base64'), 'ascii'));
  await create('bin/b64-string', raw.toString('base64'));
  await create('bin/json-bad-utf8', jsonWithBadBytes);
  ns = await cluster.createNamespace('binary');
  opNs = await cluster.createNamespace('ops');
  await prepareCluster(cluster.kubeconfigPath, opNs);
  await cluster.kubectl(['-n', ns, 'create', 'secret', 'generic', 'aws-reader',
    `--from-literal=id=${principals.reader.accessKeyId}`, `--from-literal=secret=${principals.reader.secretAccessKey}`]);
  op = await startOperator({ kubeconfigPath: cluster.kubeconfigPath, operatorNamespace: opNs, namespace: ns, extraArgs: ['--error-requeue', '4s'] });
  await apply(cluster, JSON.stringify({
    apiVersion: 'lockstep.dev/v1alpha1', kind: 'SecretStore', metadata: { name: 'aws', namespace: ns },
    spec: { provider: { aws: { region: REGION, endpoint: peer.endpoint, auth: { secretRef: {
      accessKeyIDSecretRef: { name: 'aws-reader', key: 'id' }, secretAccessKeySecretRef: { name: 'aws-reader', key: 'secret' },
    } } } } },
  }));
  await eventually(async () => readyOf(await getJson(cluster, 'secretstore', ns, 'aws'))?.status === 'True', 120_000, 'store Ready');
}, 900_000);

afterAll(async () => {
  await op?.stop();
  if (process.env.LOCKSTEP_DEBUG) await writeFile('/tmp/operator-binary.log', op?.output() ?? '');
  admin?.destroy();
  await peer?.stop();
  if (figures.length > 0) console.log(`[fault figures] binary values: ${figures.join('; ')}`);
  await cluster?.deleteNamespace(ns);
  await cluster?.deleteNamespace(opNs);
}, 60_000);

describe('binary and non-UTF-8 values from AWS SecretBinary', () => {
  it('sync byte for byte through a plain ref, find, decodingStrategy and a template', async () => {
    const started = Date.now();
    await apply(cluster, externalSecret(ns, 'bytes', {
      secretStoreRef: { name: 'aws' }, refreshInterval: '2s',
      data: [
        { secretKey: 'raw', remoteRef: { key: 'bin/raw' } },
        { secretKey: 'auto', remoteRef: { key: 'bin/raw', decodingStrategy: 'Auto' } },
        { secretKey: 'from-b64-binary', remoteRef: { key: 'bin/b64-binary', decodingStrategy: 'Base64' } },
        { secretKey: 'from-b64-string', remoteRef: { key: 'bin/b64-string', decodingStrategy: 'Base64' } },
        { secretKey: 'b64-as-is', remoteRef: { key: 'bin/b64-string' } },
      ],
      dataFrom: [{ find: { name: { regexp: '^bin/(raw|other)$' } }, rewrite: [{ regexp: { source: '^bin/', target: 'found-' } }] }],
      target: { template: { data: { 'framed': '-----BEGIN-----\n{{ raw }}\n-----END é-----' } } },
    }));
    await waitReady('bytes', 'True', 'SecretSynced');
    figures.push(`synced in ${Date.now() - started} ms`);
    const got = await secretBytes('bytes');
    const framed = Buffer.concat([Buffer.from('-----BEGIN-----\n'), raw, Buffer.from('\n-----END é-----')]);
    const wrong = [
      diff('raw', got.raw, raw), diff('auto', got.auto, raw),
      diff('from-b64-binary', got['from-b64-binary'], raw), diff('from-b64-string', got['from-b64-string'], raw),
      diff('b64-as-is', got['b64-as-is'], Buffer.from(raw.toString('base64'))),
      diff('found-raw', got['found-raw'], raw), diff('found-other', got['found-other'], other),
      diff('framed', got.framed, framed),
    ].filter((d) => d !== undefined);
    expect(wrong).toEqual([]);
    expect(Object.keys(got).sort()).toEqual(['auto', 'b64-as-is', 'found-other', 'found-raw', 'framed', 'from-b64-binary', 'from-b64-string', 'raw']);
    figures.push(`8 keys x ${raw.length} bytes byte for byte (plain, Auto, Base64 from SecretBinary and SecretString, find, template)`);
  }, 120_000);

  it('an unchanged binary value is never written again; a one-bit rotation is synced', async () => {
    const before = await getJson(cluster, 'secret', ns, 'bytes');
    await new Promise((r) => setTimeout(r, 8_000)); // four refreshes of 2 s
    const after = await getJson(cluster, 'secret', ns, 'bytes');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    const changed = Date.now();
    await admin.send(new PutSecretValueCommand({ SecretId: 'bin/raw', SecretBinary: rotated }));
    await eventually(async () => (await secretBytes('bytes')).raw?.equals(rotated), 60_000, 'the rotated bytes');
    figures.push(`0 writes over 4 unchanged refreshes; a one-bit change synced in ${Date.now() - changed} ms`);
    const got = await secretBytes('bytes');
    expect([diff('raw', got.raw, rotated), diff('found-raw', got['found-raw'], rotated), diff('auto', got.auto, rotated)].filter(Boolean)).toEqual([]);
  }, 60_000);

  it('what cannot work fails clearly, naming the key and never the value', async () => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['not-json-property', { data: [{ secretKey: 'v', remoteRef: { key: 'bin/other', property: 'password' } }] }, 'InvalidSpec', /'bin\/other' is not a JSON object/],
      ['not-json-extract', { dataFrom: [{ extract: { key: 'bin/other' } }] }, 'InvalidSpec', /'bin\/other' is not a JSON object/],
      ['not-base64', { data: [{ secretKey: 'v', remoteRef: { key: 'bin/other', decodingStrategy: 'Base64' } }] }, 'InvalidSpec', /'bin\/other'.*not valid base64/],
    ];
    for (const [name, spec] of cases) await apply(cluster, externalSecret(ns, name, { secretStoreRef: { name: 'aws' }, refreshInterval: '1h', ...spec }));
    for (const [name, , reason, message] of cases) {
      const c = await waitReady(name, 'False', reason);
      expect(c.message).toMatch(message);
      expect(leakForms().filter((f) => c.message.includes(f))).toEqual([]);
      expect(await getJson(cluster, 'secret', ns, name)).toBeUndefined();
    }
  }, 90_000);

  it('a JSON SecretBinary with invalid UTF-8 in a string: the other fields are exact, those bytes become U+FFFD (as ESO)', async () => {
    await apply(cluster, externalSecret(ns, 'json-bad-utf8', {
      secretStoreRef: { name: 'aws' }, refreshInterval: '1h',
      data: [{ secretKey: 'name', remoteRef: { key: 'bin/json-bad-utf8', property: 'name' } }, { secretKey: 'whole', remoteRef: { key: 'bin/json-bad-utf8' } }],
      dataFrom: [{ extract: { key: 'bin/json-bad-utf8' } }],
    }));
    await waitReady('json-bad-utf8', 'True', 'SecretSynced');
    const got = await secretBytes('json-bad-utf8');
    expect(got.name?.toString()).toBe('app');
    expect(got.blob).toEqual(Buffer.from('a\ufffd\ufffdz'));
    expect(got.whole).toEqual(jsonWithBadBytes); // without property: the bytes as they are
  }, 60_000);

  it('never prints a value', () => {
    const out = op.output();
    expect(leakForms().filter((f) => out.includes(f))).toEqual([]);
  });
});
