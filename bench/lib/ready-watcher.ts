// Watches the benchmark's ExternalSecrets (one label-selected list + watch, so observing costs the API
// server one stream, not repeated lists) and records when a given number of them are Ready.
import { request, Agent } from 'node:https';
import type { KubeAccess, KubeHttp } from './kube-http.js';

interface EsObject {
  metadata: { name: string; namespace: string; generation?: number; resourceVersion: string };
  status?: {
    conditions?: { type: string; status: string; reason?: string; observedGeneration?: number }[];
    refreshTime?: string;
  };
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: EsObject & { code?: number };
}

const ES_PATH = '/apis/lockstep.dev/v1alpha1/externalsecrets';

/** Ready=True with reason SecretSynced for the current generation. */
export function isSynced(es: EsObject): boolean {
  const ready = es.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && ready.reason === 'SecretSynced' &&
    (ready.observedGeneration === undefined || ready.observedGeneration === es.metadata.generation);
}

export class ReadyWatcher {
  private readonly ready = new Set<string>();
  /** Last status.refreshTime seen per object. */
  private readonly refreshTimes = new Map<string, string>();
  /** How often status.refreshTime changed per object since markRefreshes(). */
  private readonly refreshes = new Map<string, number>();
  /** reached[r]: objects whose refreshTime changed at least r times since markRefreshes(). */
  private reached: number[] = [];
  private readonly agent: Agent;
  private stopped = false;
  private current: ReturnType<typeof request> | undefined;
  private waiters: { done: () => boolean; ok: (t: number) => void }[] = [];
  /** Watch events received (a measure of what observing cost). */
  events = 0;
  restarts = 0;

  constructor(private readonly http: KubeHttp, private readonly access: KubeAccess, private readonly labelSelector: string) {
    this.agent = new Agent({ keepAlive: false, ca: access.ca, cert: access.cert, key: access.key });
  }

  get count(): number {
    return this.ready.size;
  }

  /** Lists, then watches until stop(); re-lists when the watch ends. */
  async start(): Promise<void> {
    const rv = await this.relist();
    this.watch(rv);
  }

  /** Resolves with Date.now() at the moment `target` objects are Ready. */
  waitFor(target: number): Promise<number> {
    return this.until(() => this.ready.size >= target);
  }

  /** Starts counting refreshes (changes of status.refreshTime) from zero for every object. */
  markRefreshes(): void {
    this.refreshes.clear();
    this.reached = [];
  }

  /** Objects refreshed at least `rounds` times since markRefreshes(). */
  refreshedCount(rounds: number): number {
    return this.reached[rounds] ?? 0;
  }

  /** Resolves with Date.now() when `target` objects were each refreshed at least `rounds` times. */
  waitForRefreshes(target: number, rounds: number): Promise<number> {
    return this.until(() => this.refreshedCount(rounds) >= target);
  }

  private until(done: () => boolean): Promise<number> {
    if (done()) return Promise.resolve(Date.now());
    return new Promise((ok) => this.waiters.push({ done, ok }));
  }

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
    this.agent.destroy();
  }

  private async relist(): Promise<string> {
    const { items, resourceVersion } = await this.http.listAll<EsObject>(ES_PATH, { labelSelector: this.labelSelector });
    this.ready.clear();
    for (const es of items) this.observe('ADDED', es);
    return resourceVersion;
  }

  private observe(type: WatchEvent['type'], es: EsObject): void {
    const key = `${es.metadata.namespace}/${es.metadata.name}`;
    if (type !== 'DELETED' && isSynced(es)) this.ready.add(key);
    else this.ready.delete(key);
    const refreshTime = es.status?.refreshTime;
    const before = this.refreshTimes.get(key);
    if (refreshTime !== undefined && type !== 'DELETED') {
      this.refreshTimes.set(key, refreshTime);
      if (before !== undefined && before !== refreshTime) {
        const count = (this.refreshes.get(key) ?? 0) + 1;
        this.refreshes.set(key, count);
        this.reached[count] = (this.reached[count] ?? 0) + 1;
      }
    }
    const now = Date.now();
    this.waiters = this.waiters.filter((w) => (w.done() ? (w.ok(now), false) : true));
  }

  private watch(resourceVersion: string): void {
    if (this.stopped) return;
    let rv = resourceVersion;
    const qs = new URLSearchParams({
      watch: 'true', labelSelector: this.labelSelector, resourceVersion: rv,
      allowWatchBookmarks: 'true', timeoutSeconds: '1800',
    });
    let buffered = '';
    let expired = false;
    let ended = false;
    const restart = () => {
      if (ended || this.stopped) return;
      ended = true;
      this.restarts++;
      const again = expired ? this.relist() : Promise.resolve(rv);
      again.then((v) => this.watch(v), () => setTimeout(() => this.watch(rv), 1000));
    };
    const req = request(new URL(`${ES_PATH}?${qs}`, this.access.server), { agent: this.agent, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        expired = res.statusCode === 410;
        res.resume();
        res.on('end', restart);
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as WatchEvent;
          this.events++;
          if (ev.type === 'ERROR') { expired = ev.object.code === 410; continue; }
          rv = ev.object.metadata.resourceVersion;
          if (ev.type !== 'BOOKMARK') this.observe(ev.type, ev.object);
        }
      });
      res.on('end', restart);
      res.on('error', () => undefined);
    });
    req.on('error', () => setTimeout(restart, 500));
    req.end();
    this.current = req;
  }
}
