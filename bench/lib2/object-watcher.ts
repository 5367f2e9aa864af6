// One list + watch of any resource (label-selected), calling back with every object as it is seen
// and the moment it arrived. The rotation benchmark watches its Deployments with it to note when
// their pod templates are patched.
import { request, Agent } from 'node:https';
import type { KubeAccess, KubeHttp } from '../lib/kube-http.js';

export interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion: string; generation?: number };
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class ObjectWatcher<T extends KubeObject> {
  private readonly agent: Agent;
  private stopped = false;
  private current: ReturnType<typeof request> | undefined;
  events = 0;

  constructor(
    private readonly http: KubeHttp,
    private readonly access: KubeAccess,
    /** A collection path, e.g. /apis/apps/v1/namespaces/x/deployments */
    private readonly path: string,
    private readonly labelSelector: string,
    private readonly onEvent: (type: EventType, obj: T, at: number) => void,
  ) {
    this.agent = new Agent({ keepAlive: false, ca: access.ca, cert: access.cert, key: access.key });
  }

  async start(): Promise<void> {
    this.watch(await this.relist());
  }

  stop(): void {
    this.stopped = true;
    this.current?.destroy();
    this.agent.destroy();
  }

  private async relist(): Promise<string> {
    const { items, resourceVersion } = await this.http.listAll<T>(this.path, { labelSelector: this.labelSelector });
    const now = Date.now();
    for (const o of items) this.onEvent('ADDED', o, now);
    return resourceVersion;
  }

  private watch(resourceVersion: string): void {
    if (this.stopped) return;
    let rv = resourceVersion;
    const qs = new URLSearchParams({ watch: 'true', labelSelector: this.labelSelector, resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds: '1800' });
    let buffered = '';
    let expired = false;
    let ended = false;
    const restart = () => {
      if (ended || this.stopped) return;
      ended = true;
      const again = expired ? this.relist() : Promise.resolve(rv);
      again.then((v) => this.watch(v), () => setTimeout(() => this.watch(rv), 1000));
    };
    const req = request(new URL(`${this.path}?${qs}`, this.access.server), { agent: this.agent, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        expired = res.statusCode === 410;
        res.resume();
        res.on('end', restart);
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = Date.now();
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: EventType | 'BOOKMARK' | 'ERROR'; object: T & { code?: number } };
          this.events++;
          if (ev.type === 'ERROR') { expired = ev.object.code === 410; continue; }
          rv = ev.object.metadata.resourceVersion;
          if (ev.type !== 'BOOKMARK') this.onEvent(ev.type, ev.object, at);
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
