// The in-memory state of the Secret Manager test peer and the rules of the real service that
// Lockstep depends on: resource names (answered with the project NUMBER, as Google does), secret
// id and label syntax, version numbers counting from 1, `latest` as the most recently created
// version (FAILED_PRECONDITION when that one is disabled or destroyed), version aliases, and the
// gRPC status codes and messages the real service answers. Pure: no I/O, no clock of its own.
import { grpc } from 'google-gax';

const Status = grpc.status;
export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

/** A failure the server answers with a gRPC status. */
export class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const ALIAS = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;
const SECRET_NAME = /^projects\/([^/]+)\/secrets\/([^/]+)$/;
const VERSION_NAME = /^projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/]+)$/;
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_LABELS = 64;

interface StoredVersion {
  number: number;
  state: VersionState;
  data?: Buffer;
  createTime: number;
  destroyTime?: number;
}

interface StoredSecret {
  id: string;
  labels: Record<string, string>;
  /** Free-form metadata (keys up to 63 characters, 16 KiB in all), returned as it was set. */
  annotations: Record<string, string>;
  aliases: Record<string, number>;
  replication: unknown;
  createTime: number;
  versions: StoredVersion[];
}

interface Timestamp {
  seconds: string;
  nanos: number;
}

const timestamp = (ms: number): Timestamp => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });

export interface ListPage {
  secrets: unknown[];
  nextPageToken: string;
  totalSize: number;
}

export class SecretManagerState {
  private readonly secrets = new Map<string, StoredSecret>();

  constructor(
    private readonly projectId: string,
    private readonly projectNumber: string,
    private readonly now: () => number = Date.now,
  ) {}

  private denied(permission: string, resource: string): StatusError {
    return new StatusError(Status.PERMISSION_DENIED, `Permission '${permission}' denied for resource '${resource}' (or it may not exist).`);
  }

  /** Checks that `project` is this peer's project (by ID or number); other projects are denied, as on Google. */
  private checkProject(project: string, permission: string, resource: string): void {
    if (project !== this.projectId && project !== this.projectNumber) throw this.denied(permission, resource);
  }

  private parent(parent: string, permission: string): void {
    const m = /^projects\/([^/]+)$/.exec(parent);
    if (!m?.[1]) throw new StatusError(Status.INVALID_ARGUMENT, `Invalid resource field value in the request: parent '${parent}'.`);
    this.checkProject(m[1], permission, parent);
  }

  private secretName(id: string): string {
    return `projects/${this.projectNumber}/secrets/${id}`;
  }

  private findSecret(name: string, permission: string): StoredSecret {
    const m = SECRET_NAME.exec(name);
    if (!m?.[1] || !m[2]) throw new StatusError(Status.INVALID_ARGUMENT, `Invalid resource field value in the request: name '${name}'.`);
    this.checkProject(m[1], permission, name);
    const secret = this.secrets.get(m[2]);
    if (!secret) throw new StatusError(Status.NOT_FOUND, `Secret [${this.secretName(m[2])}] not found.`);
    return secret;
  }

  private findVersion(name: string, permission: string): { secret: StoredSecret; version: StoredVersion } {
    const m = VERSION_NAME.exec(name);
    if (!m?.[1] || !m[2] || !m[3]) throw new StatusError(Status.INVALID_ARGUMENT, `Invalid resource field value in the request: name '${name}'.`);
    this.checkProject(m[1], permission, name);
    const secret = this.secrets.get(m[2]);
    const ref = m[3];
    if (!secret) throw new StatusError(Status.NOT_FOUND, `Secret [${this.secretName(m[2])}] not found or has no versions.`);
    let number: number | undefined;
    if (ref === 'latest') number = secret.versions.at(-1)?.number;
    else if (/^[1-9][0-9]{0,18}$/.test(ref)) number = Number(ref);
    else if (ALIAS.test(ref)) number = secret.aliases[ref];
    else throw new StatusError(Status.INVALID_ARGUMENT, `Invalid resource field value in the request: version '${ref}'.`);
    const version = number === undefined ? undefined : secret.versions[number - 1];
    if (!version) {
      const what = ref === 'latest' ? `Secret [${this.secretName(secret.id)}] not found or has no versions.` : `Secret Version [${this.secretName(secret.id)}/versions/${ref}] not found.`;
      throw new StatusError(Status.NOT_FOUND, what);
    }
    return { secret, version };
  }

  private toSecret(s: StoredSecret): unknown {
    return {
      name: this.secretName(s.id),
      replication: s.replication,
      createTime: timestamp(s.createTime),
      labels: s.labels,
      annotations: s.annotations,
      versionAliases: Object.fromEntries(Object.entries(s.aliases).map(([k, v]) => [k, String(v)])),
      etag: `"${s.createTime.toString(16)}${s.versions.length.toString(16)}"`,
    };
  }

  private toVersion(s: StoredSecret, v: StoredVersion): unknown {
    return {
      name: `${this.secretName(s.id)}/versions/${v.number}`,
      createTime: timestamp(v.createTime),
      destroyTime: v.destroyTime === undefined ? null : timestamp(v.destroyTime),
      state: v.state,
      etag: `"${v.createTime.toString(16)}${v.state.length.toString(16)}"`,
    };
  }

  private checkLabels(labels: Record<string, string>): void {
    const entries = Object.entries(labels);
    if (entries.length > MAX_LABELS) throw new StatusError(Status.INVALID_ARGUMENT, `A secret may have at most ${MAX_LABELS} labels.`);
    for (const [k, v] of entries) {
      if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v)) throw new StatusError(Status.INVALID_ARGUMENT, `Invalid label '${k}'.`);
    }
  }

  createSecret(req: { parent: string; secretId: string; secret?: { labels?: Record<string, string>; annotations?: Record<string, string>; replication?: unknown } | null }): unknown {
    this.parent(req.parent, 'secretmanager.secrets.create');
    if (!SECRET_ID.test(req.secretId)) throw new StatusError(Status.INVALID_ARGUMENT, `Invalid secret id '${req.secretId}'.`);
    if (!req.secret?.replication) throw new StatusError(Status.INVALID_ARGUMENT, 'Secret.replication must be set.');
    if (this.secrets.has(req.secretId)) throw new StatusError(Status.ALREADY_EXISTS, `Secret [${this.secretName(req.secretId)}] already exists.`);
    const labels = { ...req.secret.labels };
    this.checkLabels(labels);
    const secret = { id: req.secretId, labels, annotations: { ...req.secret.annotations }, aliases: {}, replication: req.secret.replication, createTime: this.now(), versions: [] };
    this.secrets.set(req.secretId, secret);
    return this.toSecret(secret);
  }

  getSecret(name: string): unknown {
    return this.toSecret(this.findSecret(name, 'secretmanager.secrets.get'));
  }

  /** UpdateSecret for the fields the fixture changes: `labels`, `annotations` and `version_aliases`. */
  updateSecret(req: { secret?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; versionAliases?: Record<string, string> } | null; updateMask?: { paths?: string[] } | null }): unknown {
    const secret = this.findSecret(req.secret?.name ?? '', 'secretmanager.secrets.update');
    const paths = req.updateMask?.paths ?? [];
    if (paths.length === 0) throw new StatusError(Status.INVALID_ARGUMENT, 'update_mask must be set.');
    for (const path of paths) {
      if (path === 'labels') {
        const labels = { ...req.secret?.labels };
        this.checkLabels(labels);
        secret.labels = labels;
      } else if (path === 'annotations') {
        secret.annotations = { ...req.secret?.annotations };
      } else if (path === 'version_aliases') {
        secret.aliases = this.parseAliases(secret, req.secret?.versionAliases ?? {});
      } else {
        throw new StatusError(Status.INVALID_ARGUMENT, `This test peer does not update '${path}'.`);
      }
    }
    return this.toSecret(secret);
  }

  private parseAliases(secret: StoredSecret, aliases: Record<string, string>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [alias, version] of Object.entries(aliases)) {
      const number = Number(version);
      if (!ALIAS.test(alias) || alias === 'latest' || !secret.versions[number - 1]) {
        throw new StatusError(Status.INVALID_ARGUMENT, `Invalid version alias '${alias}'.`);
      }
      out[alias] = number;
    }
    return out;
  }

  deleteSecret(name: string): void {
    const secret = this.findSecret(name, 'secretmanager.secrets.delete');
    this.secrets.delete(secret.id);
  }

  /** One page in creation order; the filter is ignored, like the community emulator does. */
  listSecrets(req: { parent: string; pageSize?: number; pageToken?: string }, maxPageSize: number): ListPage {
    this.parent(req.parent, 'secretmanager.secrets.list');
    const all = [...this.secrets.values()];
    let offset = 0;
    if (req.pageToken) {
      offset = Number(Buffer.from(req.pageToken, 'base64url').toString('utf8').replace(/^offset:/, ''));
      if (!Number.isInteger(offset) || offset < 0 || offset > all.length) {
        throw new StatusError(Status.INVALID_ARGUMENT, 'Invalid page token.');
      }
    }
    if ((req.pageSize ?? 0) < 0) throw new StatusError(Status.INVALID_ARGUMENT, 'page_size must not be negative.');
    const size = Math.min(req.pageSize || maxPageSize, maxPageSize, 25_000);
    const page = all.slice(offset, offset + size);
    const next = offset + page.length;
    return {
      secrets: page.map((s) => this.toSecret(s)),
      nextPageToken: next < all.length ? Buffer.from(`offset:${next}`).toString('base64url') : '',
      totalSize: all.length,
    };
  }

  addSecretVersion(req: { parent: string; payload?: { data?: Buffer } | null }): unknown {
    const secret = this.findSecret(req.parent, 'secretmanager.versions.add');
    const data = Buffer.from(req.payload?.data ?? Buffer.alloc(0));
    if (data.length > MAX_PAYLOAD_BYTES) throw new StatusError(Status.INVALID_ARGUMENT, `Secret payload is larger than ${MAX_PAYLOAD_BYTES} bytes.`);
    const version: StoredVersion = { number: secret.versions.length + 1, state: 'ENABLED', data, createTime: this.now() };
    secret.versions.push(version);
    return this.toVersion(secret, version);
  }

  getSecretVersion(name: string): unknown {
    const { secret, version } = this.findVersion(name, 'secretmanager.versions.get');
    return this.toVersion(secret, version);
  }

  accessSecretVersion(name: string): unknown {
    const { secret, version } = this.findVersion(name, 'secretmanager.versions.access');
    const versionName = `${this.secretName(secret.id)}/versions/${version.number}`;
    if (version.state !== 'ENABLED' || !version.data) {
      throw new StatusError(Status.FAILED_PRECONDITION, `Secret Version [${versionName}] is in ${version.state} state.`);
    }
    return { name: versionName, payload: { data: version.data } };
  }

  listSecretVersions(req: { parent: string }): unknown {
    const secret = this.findSecret(req.parent, 'secretmanager.versions.list');
    const versions = [...secret.versions].reverse().map((v) => this.toVersion(secret, v));
    return { versions, nextPageToken: '', totalSize: versions.length };
  }

  setVersionState(name: string, state: VersionState): unknown {
    const { secret, version } = this.findVersion(name, `secretmanager.versions.${state === 'ENABLED' ? 'enable' : state === 'DISABLED' ? 'disable' : 'destroy'}`);
    if (version.state === 'DESTROYED') {
      throw new StatusError(Status.FAILED_PRECONDITION, `Secret Version [${this.secretName(secret.id)}/versions/${version.number}] is in DESTROYED state.`);
    }
    version.state = state;
    if (state === 'DESTROYED') {
      version.data = undefined;
      version.destroyTime = this.now();
    }
    return this.toVersion(secret, version);
  }
}
