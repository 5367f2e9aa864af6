/**
 * What the operator knows, in memory, about refreshes: when each ExternalSecret's values were last
 * read, and each store's refresh rounds. An unchanged refresh writes nothing to the ExternalSecret
 * (status.refreshTime moves only when the values changed, or on a first sync); freshness is kept
 * here, and once per complete round on the store (`status.refresh`), which is what a restart reads.
 *
 * A round opens when the first ExternalSecret of a store comes due (refresh-round.ts) with the
 * members due with it, and completes when each member has refreshed or failed. Its `time` is the
 * oldest read any member used: every member that is Ready was read at or after it. A round still
 * open when the next one opens is merged into it (the older time is kept); one that stays open
 * for longer than its interval (a member that never came back) is dropped unreported.
 */

export interface RoundSummary {
  /** Key of the store (`ClientCache.storeKey`). */
  store: string;
  /** Epoch ms: every member that succeeded read its values at or after this. */
  time: number;
  externalSecrets: number;
  changed: number;
  failed: number;
}

interface OpenRound {
  openedAt: number;
  expiresAt: number;
  pending: Set<string>;
  members: number;
  oldestRead: number;
  changed: number;
  failed: number;
}

/** Bounds the bookkeeping of stores that went away (they are never removed one by one). */
const MAX_STORES = 10_000;

export class RefreshTracker {
  private readonly lastRead = new Map<string, number>();
  private readonly open = new Map<string, OpenRound>();
  /** member key → store key of the open round it belongs to. */
  private readonly memberOf = new Map<string, string>();
  private readonly completed = new Map<string, RoundSummary>();

  /** When the values of `key` were last read successfully by this process. */
  lastReadOf(key: string): number | undefined {
    return this.lastRead.get(key);
  }

  /** Opens (or widens) the store's round with `members`, at `now`; members already counted stay counted. */
  openRound(store: string, members: readonly string[], now: number, intervalMs: number): void {
    let round = this.open.get(store);
    if (round && now > round.expiresAt) {
      this.dropRound(store, round);
      round = undefined;
    }
    if (!round) {
      if (this.open.size >= MAX_STORES) this.clearOpen();
      round = { openedAt: now, expiresAt: now + Math.max(intervalMs, 1000), pending: new Set(), members: 0, oldestRead: now, changed: 0, failed: 0 };
      this.open.set(store, round);
    }
    for (const key of members) {
      if (round.pending.has(key)) continue;
      const previous = this.memberOf.get(key);
      if (previous !== undefined && previous !== store) this.leave(key);
      round.pending.add(key);
      round.members++;
      this.memberOf.set(key, store);
    }
  }

  /**
   * Records a successful read of `key` (at `readAt`, whether the values differed). Returns the
   * store's round when this completed it.
   */
  recordRead(key: string, readAt: number, changed: boolean): RoundSummary | undefined {
    this.lastRead.set(key, readAt);
    return this.settle(key, (round) => {
      round.oldestRead = Math.min(round.oldestRead, readAt);
      if (changed) round.changed++;
    });
  }

  /** Records a failed refresh of `key`; returns the store's round when this completed it. */
  recordFailure(key: string): RoundSummary | undefined {
    return this.settle(key, (round) => round.failed++);
  }

  /** The ExternalSecret is gone: it leaves its round (which may complete without it). */
  forget(key: string): RoundSummary | undefined {
    this.lastRead.delete(key);
    return this.leave(key);
  }

  /** The last complete round of each store this process saw. */
  completedRounds(): RoundSummary[] {
    return [...this.completed.values()];
  }

  /** Members of open rounds (for tests and debugging). */
  openMembers(store: string): number {
    return this.open.get(store)?.pending.size ?? 0;
  }

  private settle(key: string, update: (round: OpenRound) => void): RoundSummary | undefined {
    const store = this.memberOf.get(key);
    const round = store === undefined ? undefined : this.open.get(store);
    if (store === undefined || !round?.pending.delete(key)) return undefined;
    this.memberOf.delete(key);
    update(round);
    return this.completeIfDone(store, round);
  }

  private leave(key: string): RoundSummary | undefined {
    const store = this.memberOf.get(key);
    if (store === undefined) return undefined;
    this.memberOf.delete(key);
    const round = this.open.get(store);
    if (!round?.pending.delete(key)) return undefined;
    round.members--;
    return this.completeIfDone(store, round);
  }

  private completeIfDone(store: string, round: OpenRound): RoundSummary | undefined {
    if (round.pending.size > 0) return undefined;
    this.open.delete(store);
    if (round.members === 0) return undefined;
    const summary = { store, time: round.oldestRead, externalSecrets: round.members, changed: round.changed, failed: round.failed };
    if (this.completed.size >= MAX_STORES && !this.completed.has(store)) this.completed.clear();
    this.completed.set(store, summary);
    return summary;
  }

  private dropRound(store: string, round: OpenRound): void {
    for (const key of round.pending) this.memberOf.delete(key);
    this.open.delete(store);
  }

  private clearOpen(): void {
    for (const [store, round] of this.open) this.dropRound(store, round);
  }
}
