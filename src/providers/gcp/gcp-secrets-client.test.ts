import { Status } from 'google-gax';
import type { SecretManagerApi, SecretPage } from './gcp-api.js';
import { mapGcpError } from './gcp-errors.js';
import { buildGcpMetadataWhole, GcpSecretsClient, selectGcpMetadata } from './gcp-secrets-client.js';
import { AuthError, SecretNotFoundError } from '../provider-errors.js';

const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const enc = (s: string) => new TextEncoder().encode(s);
const signal = new AbortController().signal;
const fail = (code: Status) => mapGcpError(Object.assign(new Error('x'), { code, details: 'x' }), 'w');

/** An in-memory SecretManagerApi that, like the emulator, ignores list filters and pages by two. */
class MemoryApi implements SecretManagerApi {
  readonly accessed: string[] = [];
  readonly listed: { filter?: string; pageToken?: string }[] = [];
  listError?: Error;
  constructor(private readonly secrets: { id: string; labels?: Record<string, string>; value?: string; error?: Status }[]) {}

  accessSecretVersion(name: string): Promise<Uint8Array> {
    this.accessed.push(name);
    const id = name.split('/')[3];
    const secret = this.secrets.find((s) => s.id === id);
    if (!secret) return Promise.reject(fail(Status.NOT_FOUND));
    if (secret.error !== undefined) return Promise.reject(fail(secret.error));
    return Promise.resolve(enc(secret.value ?? ''));
  }

  listSecrets(req: { filter?: string; pageToken?: string }): Promise<SecretPage> {
    this.listed.push({ filter: req.filter, pageToken: req.pageToken });
    if (this.listError) return Promise.reject(this.listError);
    const start = Number(req.pageToken ?? 0);
    const page = this.secrets.slice(start, start + 2).map((s) => ({ name: `projects/123/secrets/${s.id}`, labels: s.labels ?? {} }));
    return Promise.resolve({ secrets: page, nextPageToken: start + 2 < this.secrets.length ? String(start + 2) : undefined });
  }

  getSecretMetadata(name: string): Promise<{ labels: Record<string, string>; annotations: Record<string, string> }> {
    const secret = this.secrets.find((s) => s.id === name.split('/')[3]);
    if (!secret) return Promise.reject(fail(Status.NOT_FOUND));
    return Promise.resolve({ labels: secret.labels ?? {}, annotations: { 'owner.example.com/team': 'payments' } });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('GcpSecretsClient', () => {
  const api = new MemoryApi([
    { id: 'app-db', labels: { team: 'a' }, value: '{"user":"u","db":{"pw":"p"}}' },
    { id: 'app-api', labels: { team: 'b' }, value: 'api' },
    { id: 'app-disabled', labels: { team: 'a' }, error: Status.FAILED_PRECONDITION },
    { id: 'web', labels: { team: 'a' }, value: 'web' },
  ]);
  const prepared: number[] = [];
  const client = new GcpSecretsClient(api, { projectID: 'proj', prepare: () => Promise.resolve(void prepared.push(1)) });

  it('reads versions and properties from the configured project', async () => {
    expect(dec(await client.getSecret({ key: 'app-db', property: 'db.pw' }, { signal }))).toBe('p');
    const whole = await client.readWhole({ key: 'app-db' }, { signal });
    expect([whole.value({ key: 'app-db', property: 'user' }), whole.value({ key: 'app-db', property: 'db.pw' })].map(dec)).toEqual(['u', 'p']);
    await client.getSecret({ key: 'app-db', version: '2' }, { signal });
    expect(api.accessed.slice(-2)).toEqual(['projects/proj/secrets/app-db/versions/latest', 'projects/proj/secrets/app-db/versions/2']);
    await expect(client.getSecret({ key: 'nope' }, { signal })).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(prepared.length).toBeGreaterThan(0);
  });

  it('finds across pages, filters on its own side and skips secrets without an enabled version', async () => {
    const found = await client.findSecrets({ name: { regexp: '^app-' }, tags: { team: 'a' } }, { signal });
    expect(Object.fromEntries([...found].map(([k, v]) => [k, dec(v)]))).toEqual({ 'app-db': '{"user":"u","db":{"pw":"p"}}' });
    expect(api.listed.slice(-2)).toEqual([
      { filter: 'labels.team="a"', pageToken: undefined },
      { filter: 'labels.team="a"', pageToken: '2' },
    ]);
  });

  it('validates by listing, accepting PERMISSION_DENIED but not UNAUTHENTICATED', async () => {
    await expect(client.validate({ signal })).resolves.toBeUndefined();
    api.listError = fail(Status.PERMISSION_DENIED);
    await expect(client.validate({ signal })).resolves.toBeUndefined();
    api.listError = fail(Status.UNAUTHENTICATED);
    await expect(client.validate({ signal })).rejects.toBeInstanceOf(AuthError);
    api.listError = undefined;
  });
});

describe('GCP metadataPolicy Fetch (ESO rules: annotations and labels)', () => {
  const metadata = { labels: { team: 'a' }, annotations: { 'owner.example.com/team': 'payments' } };
  const text = (property?: string) => dec(selectGcpMetadata(metadata, { key: 'db', property }));

  it('reads both maps, one map, or one entry by labels.KEY / annotations.KEY (the key may hold dots)', () => {
    expect(JSON.parse(text())).toEqual(metadata);
    expect(JSON.parse(text('labels'))).toEqual({ team: 'a' });
    expect(text('labels.team')).toBe('a');
    expect(text('annotations.owner.example.com/team')).toBe('payments');
  });

  it('refuses another property, and names a missing entry', () => {
    expect(() => text('team')).toThrow("metadata property 'team' of remote key 'db' must be labels, annotations, labels.KEY or annotations.KEY");
    expect(() => text('labels.env')).toThrow("metadata 'env' does not exist on remote key 'db' (its metadata keys are 'team')");
  });

  it('expands the selected map for getSecretMap', () => {
    const whole = buildGcpMetadataWhole(metadata);
    expect(Object.fromEntries([...whole.map({ key: 'db', property: 'labels' })].map(([k, v]) => [k, dec(v)]))).toEqual({ team: 'a' });
    expect(dec(whole.map({ key: 'db' }).get('annotations'))).toBe('{"owner.example.com/team":"payments"}');
    expect(whole.value({ key: 'db', property: 'labels.team' })).toEqual(selectGcpMetadata(metadata, { key: 'db', property: 'labels.team' }));
  });

  it('goes through the client: GetSecret, not AccessSecretVersion', async () => {
    const api = new MemoryApi([{ id: 'db', labels: { team: 'a' }, value: 'the-value' }]);
    const client = new GcpSecretsClient(api, { projectID: 'proj' });
    expect(dec(await client.getSecret({ key: 'db', property: 'labels.team', metadataPolicy: 'Fetch' }, { signal: new AbortController().signal }))).toBe('a');
    expect(api.accessed).toEqual([]);
  });
});
