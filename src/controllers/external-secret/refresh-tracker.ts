/**
 * What the operator knows, in memory, about refreshes: when each ExternalSecret's values were last
 * read, and each store's refresh rounds. An unchanged refresh writes nothing to the ExternalSecret
 * (status.refreshTime moves only when the values changed, or on a first sync); freshness is kept
 * here, and once per complete round on the store (`status.refresh`), which is what a restart reads.
 *
 * A round opens when the first ExternalSecret of a store comes due (refresh-round.ts) with the
 * members due with it, and completes when each member has refreshed or failed. Its `time` is the
 * oldest read any member used: every member that is Ready was read at or after it. A round still
 * open when the next one opens is merged into it (the older time is kept). A round may take longer
 * than its interval (10,000 first syncs after a store edit, on two cores): while its members keep
 * coming back it stays open, and a member that already read in it is not read again meanwhile
 * (readInRunningRound); one with no member back for an interval (a member that never came back)
 * is dropped unreported.
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
  intervalMs: number;
  /** When a member last joined or came back: a round with none for an interval is stalled. */
  lastProgress: number;
  pending: Set<string>;
  members: number;
  oldestRead: number;
  changed: number;
  failed: number;
}

/** A refresh waits for a running round (readInRunningRound) only while its values are younger than this many intervals. */
export const MAX_WAIT_INTERVALS = 3;

/** Bounds the bookkeeping of stores that went away (they are never removed one by one). */
const MAX_STORES = 10_000;

export class RefreshTracker {
  private readonly lastRead = new Map<string, number>();
  private readonly open = new Map<string, OpenRound>();
  /** member key → store key of the open round it belongs to. */
  private readonly memberOf = new Map<string, string>();
  private readonly completed = new Map<string, RoundSummary>();

  /** `now`: the clock members come back by (epoch ms). */
  constructor(private readonly now: () => number = Date.now) {}

  /** When the values of `key` were last read successfully by this process. */
  lastReadOf(key: string): number | undefined {
    return this.lastRead.get(key);
  }

  /** Opens (or widens) the store's round with `members`, at `now`; members already counted stay counted. */
  openRound(store: string, members: readonly string[], now: number, intervalMs: number): void {
    let round = this.open.get(store);
    if (round && isStalled(round, now)) {
      this.dropRound(store, round);
      round = undefined;
    }
    if (!round) {
      if (this.open.size >= MAX_STORES) this.clearOpen();
      round = { openedAt: now, intervalMs, lastProgress: now, pending: new Set(), members: 0, oldestRead: now, changed: 0, failed: 0 };
      this.open.set(store, round);
    }
    if (members.length > 0) round.lastProgress = Math.max(round.lastProgress, now);
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

  /**
   * Whether `key` already read in its store's round that is still running (other members are
   * queued or being read, and they keep coming back): a periodic refresh that falls due meanwhile
   * waits for the next round instead of reading again. A stalled round does not hold anyone back,
   * nor one that keeps going (new members joining all the time) once the values of `key` are
   * MAX_WAIT_INTERVALS intervals old.
   */
  readInRunningRound(store: string, key: string, now: number): boolean {
    const round = this.open.get(store);
    if (!round || round.pending.size === 0 || round.pending.has(key) || isStalled(round, now)) return false;
    const read = this.lastRead.get(key);
    return read !== undefined && read >= round.openedAt && now - read < MAX_WAIT_INTERVALS * round.intervalMs;
  }

  /**
   * Whether the store's round is still being worked through: members are queued or being read, and
   * they keep coming back (not stalled). Its members' reads were asked for when it opened.
   */
  isRunning(store: string, now: number): boolean {
    const round = this.open.get(store);
    return round !== undefined && round.pending.size > 0 && !isStalled(round, now);
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
    round.lastProgress = Math.max(round.lastProgress, this.now());
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

/** No member joined or came back for an interval (at least a second): a member never came back. */
function isStalled(round: OpenRound, now: number): boolean {
  return now - round.lastProgress > Math.max(round.intervalMs, 1000);
}
