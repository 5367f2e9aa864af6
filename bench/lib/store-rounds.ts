// Follows the refresh rounds of the benchmark's stores: an unchanged refresh writes nothing to the
// ExternalSecrets, so a round shows only on its store, as a new `status.refresh.time` (written once
// per complete round: every ExternalSecret of the store was read). Polls the stores' list (a
// handful of objects) instead of watching.
import type { KubeHttp } from './kube-http.js';

interface StoreObject {
  metadata: { name: string; namespace?: string };
  status?: { refresh?: { time?: string; externalSecrets?: number; changed?: number; failed?: number } };
}

export interface StoreRound {
  time: string;
  externalSecrets?: number;
  changed?: number;
  failed?: number;
}

export class StoreRoundWatcher {
  private readonly last = new Map<string, string | undefined>();
  private readonly counts = new Map<string, number>();
  /** The rounds seen since mark(), per store, in order. */
  readonly rounds = new Map<string, StoreRound[]>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling = false;

  /** `path`: the stores' list path; `filter` keeps the benchmark's own. */
  constructor(private readonly http: KubeHttp, private readonly path: string, private readonly filter: (s: StoreObject) => boolean = () => true) {}

  async start(everyMs = 250): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Counts rounds from zero from now on. */
  async mark(): Promise<void> {
    await this.poll();
    this.counts.clear();
    this.rounds.clear();
  }

  /** Stores that completed at least `rounds` rounds since mark(). */
  refreshedCount(rounds: number): number {
    return [...this.counts.values()].filter((c) => c >= rounds).length;
  }

  /** Sum over the stores of the ExternalSecrets in their `round`-th round since mark() (1-based). */
  membersOf(round: number): number {
    return [...this.rounds.values()].reduce((sum, list) => sum + (list[round - 1]?.externalSecrets ?? 0), 0);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { items } = await this.http.listAll<StoreObject>(this.path);
      for (const s of items.filter(this.filter)) {
        const key = `${s.metadata.namespace ?? ''}/${s.metadata.name}`;
        const refresh = s.status?.refresh;
        const seen = this.last.has(key);
        const before = this.last.get(key);
        this.last.set(key, refresh?.time);
        if (seen && refresh?.time !== undefined && refresh.time !== before) this.count(key, refresh as StoreRound);
      }
    } catch {
      // the next poll tries again
    } finally {
      this.polling = false;
    }
  }

  private count(key: string, round: StoreRound): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const list = this.rounds.get(key) ?? [];
    list.push(round);
    this.rounds.set(key, list);
  }
}
