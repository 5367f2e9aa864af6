/**
 * The operator's HTTPS endpoint for delivery as files, served by every replica (not only the
 * leader):
 *   POST /mutate     the mutating admission webhook that injects the agent into opted-in pods
 *   GET  /v1/files   the agents' API: ?secrets=a,b[&known=VERSION&wait=SECONDS] (long poll)
 *   GET  /healthz
 * Admission refuses, with a message for the user, a pod whose ServiceAccount an ExternalSecret
 * does not list as a consumer, or that names an ExternalSecret that does not exist or is not
 * delivered as files. The agents' API answers only for the ServiceAccount its TokenReview proves.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Annotations, EventReasons } from '../api/constants.js';
import type { Logger } from '../observability/logger.js';
import type { EventRecorder } from '../controllers/event-recorder.js';
import { AgentAuthenticator, AuthenticationError, type AgentIdentity } from './agent-authenticator.js';
import { FileSetError, type FileSetSource } from './file-set-source.js';
import { buildInjectionPatch, findNameClashes, parseInjectionRequest, type InjectorSettings, type PodLike } from './pod-injector.js';
import type { FilesResponse } from './agent.js';
import type { ServingCertificate } from './webhook-tls.js';

export interface FilesServerDeps {
  fileSets: FileSetSource;
  authenticator: AgentAuthenticator;
  events: EventRecorder;
  log: Logger;
  injector: InjectorSettings;
  metrics?: { requests: { inc(labels: { endpoint: string; code: string }): void } };
}

const MAX_BODY = 4 * 1024 * 1024;
const MAX_WAIT_S = 120;
const MAX_TRACKED_PODS = 50_000;

export class FilesServer {
  private server?: Server;
  /** The version each pod's agent last said it holds: a change is an update worth an Event. */
  private readonly podVersions = new Map<string, string>();

  constructor(private readonly deps: FilesServerDeps) {}

  async listen(cert: ServingCertificate, host: string, port: number): Promise<{ port: number }> {
    const server = createServer({ cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.deps.log.error({ err }, 'files server request failed');
        if (!res.headersSent) send(res, 500, { message: 'internal error' });
      });
    });
    server.requestTimeout = (MAX_WAIT_S + 30) * 1000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    return { port: typeof address === 'object' && address ? address.port : port };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const count = (code: number) => this.deps.metrics?.requests.inc({ endpoint: url.pathname, code: String(code) });
    if (req.method === 'POST' && url.pathname === '/mutate') {
      const body = await readBody(req);
      const answer = await this.admit(body);
      count(send(res, 200, answer));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/files') {
      const code = await this.serveFiles(req, res, url);
      count(code);
      return;
    }
    if (url.pathname === '/healthz') {
      send(res, 200, { status: 'ok' });
      return;
    }
    count(404);
    send(res, 404, { message: `no such endpoint: ${req.method ?? ''} ${url.pathname}` });
  }

  /** The admission decision for one AdmissionReview (v1). */
  async admit(body: string): Promise<unknown> {
    let review: { request?: { uid?: string; namespace?: string; operation?: string; object?: PodLike } };
    try {
      review = JSON.parse(body) as typeof review;
    } catch {
      return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: '', allowed: false, status: { code: 400, message: 'not an AdmissionReview' } } };
    }
    const uid = review.request?.uid ?? '';
    const respond = (extra: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...extra } });
    const deny = (message: string, code = 403) => respond({ allowed: false, status: { code, reason: 'Forbidden', message: `lockstep: ${message}` } });
    const pod = review.request?.object;
    const namespace = review.request?.namespace ?? '';
    if (!pod || review.request?.operation !== 'CREATE') return respond({ allowed: true });
    if (pod.metadata?.annotations?.[Annotations.injected]) return respond({ allowed: true }); // already done (reinvocation)
    const parsed = parseInjectionRequest(pod);
    if (!parsed.ok) return deny(parsed.message, 400);
    const clashes = findNameClashes(pod);
    if (clashes.length > 0) return deny(`the pod already has containers or volumes named ${clashes.join(', ')}; rename them`, 400);
    const serviceAccount = pod.spec?.serviceAccountName || 'default';
    for (const name of parsed.request.secrets) {
      try {
        const { spec } = await this.deps.fileSets.lookup(namespace, name);
        const allowed = spec.target?.files?.consumers.serviceAccounts ?? [];
        if (!allowed.includes(serviceAccount)) {
          return deny(
            `ServiceAccount '${serviceAccount}' may not receive the files of ExternalSecret '${namespace}/${name}'; ` +
              `add it to spec.target.files.consumers.serviceAccounts or run the pod as one of: ${allowed.join(', ')}`,
          );
        }
      } catch (err) {
        if (err instanceof FileSetError) return deny(`${err.message} (named in annotation ${Annotations.inject})`, err.status === 404 ? 404 : 400);
        throw err;
      }
    }
    const patch = buildInjectionPatch(pod, parsed.request, this.deps.injector);
    this.deps.log.info({ namespace, pod: pod.metadata?.name ?? pod.metadata?.generateName, secrets: parsed.request.secrets, mode: parsed.request.mode }, 'injected the files agent');
    return respond({ allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
  }

  private async serveFiles(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> {
    let who: AgentIdentity;
    try {
      who = await this.deps.authenticator.authenticate(req.headers.authorization);
    } catch (err) {
      if (err instanceof AuthenticationError) return send(res, 401, { message: err.message });
      this.deps.log.warn({ err }, 'TokenReview failed');
      return send(res, 503, { message: 'cannot check the token now; retry' });
    }
    const names = [...new Set((url.searchParams.get('secrets') ?? '').split(',').map((s) => s.trim()).filter(Boolean))].sort();
    if (names.length === 0) return send(res, 400, { message: 'name the ExternalSecrets: ?secrets=a,b' });
    const denied = await this.checkConsumers(who, names);
    if (denied) {
      this.deps.log.warn({ namespace: who.namespace, serviceAccount: who.serviceAccount, pod: who.pod?.name, reason: denied.message }, 'refused files to an agent');
      return send(res, denied.status, { message: denied.message });
    }
    const keys = names.map((n) => `${who.namespace}/${n}`);
    const known = url.searchParams.get('known') ?? '';
    const waitS = Math.min(MAX_WAIT_S, Math.max(0, Number(url.searchParams.get('wait') ?? 0) || 0));
    this.notePodVersion(who, known);
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const deadline = Date.now() + waitS * 1000;
    for (;;) {
      let answer: FilesResponse;
      try {
        answer = await this.collect(who.namespace, names);
      } catch (err) {
        if (err instanceof FileSetError) return send(res, err.status, { message: err.message });
        throw err;
      }
      if (answer.version !== known) return send(res, 200, answer);
      const left = deadline - Date.now();
      if (left <= 0 || abort.signal.aborted) return send(res, 304, undefined);
      await this.deps.fileSets.waitForChange(keys, left, abort.signal);
      const again = await this.checkConsumers(who, names); // consumers may have changed while we waited
      if (again) return send(res, again.status, { message: again.message });
    }
  }

  private async checkConsumers(who: AgentIdentity, names: string[]): Promise<{ status: number; message: string } | undefined> {
    for (const name of names) {
      try {
        const { spec } = await this.deps.fileSets.lookup(who.namespace, name);
        if (!(spec.target?.files?.consumers.serviceAccounts ?? []).includes(who.serviceAccount)) {
          return {
            status: 403,
            message: `ServiceAccount '${who.serviceAccount}' is not a consumer of ExternalSecret '${who.namespace}/${name}' (spec.target.files.consumers.serviceAccounts)`,
          };
        }
      } catch (err) {
        if (err instanceof FileSetError) return { status: err.status, message: err.message };
        throw err;
      }
    }
    return undefined;
  }

  private async collect(namespace: string, names: string[]): Promise<FilesResponse> {
    const entries = await Promise.all(names.map((n) => this.deps.fileSets.get(namespace, n)));
    const secrets: FilesResponse['secrets'] = {};
    const version = createHash('sha256');
    entries.forEach((entry, i) => {
      const name = names[i] as string;
      version.update(`${name}\0${entry.hash}\0`);
      secrets[name] = Object.fromEntries([...entry.files].map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    });
    return { version: version.digest('base64url').slice(0, 22), secrets };
  }

  /** An agent that reports a new version (after holding another) wrote new files: say so on its pod. */
  private notePodVersion(who: AgentIdentity, known: string): void {
    if (!who.pod || !known) return;
    const previous = this.podVersions.get(who.pod.uid);
    this.podVersions.delete(who.pod.uid);
    if (this.podVersions.size >= MAX_TRACKED_PODS) this.podVersions.delete(this.podVersions.keys().next().value as string);
    this.podVersions.set(who.pod.uid, known);
    if (previous === undefined || previous === known) return;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: who.pod.name, namespace: who.namespace, uid: who.pod.uid } };
    void this.deps.events.record(pod, 'Normal', EventReasons.filesUpdated, 'the lockstep agent wrote new content to the secret files');
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): number {
  if (res.headersSent || res.destroyed) return status;
  if (body === undefined) {
    res.writeHead(status).end();
    return status;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  return status;
}
