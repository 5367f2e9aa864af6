/**
 * The restarts an ExternalSecret owes (`status.pendingRollout`), as pure functions. Each owed
 * workload keeps the time it first became owed, so its coalescing window is its own: an older
 * restart still owed to another workload (one that is paused, say) must not make the window of a
 * newly owed workload look over, or two quick changes would restart it twice.
 */
export interface OwedRestart {
  workload: string;
  since: string;
}

export interface PendingRollout {
  /** Keyed hash (prefix) of the content the restarts are for: the latest rotation. */
  hash: string;
  /** When the oldest change still owed was seen. */
  since: string;
  workloads: string[];
  owed?: OwedRestart[];
}

/** When `workload` first became owed its restart (status written before `owed` existed: `since`). */
export function owedSince(pending: PendingRollout, workload: string): string {
  return pending.owed?.find((o) => o.workload === workload)?.since ?? pending.since;
}

/** The owed restarts after a rotation to `hash` at `now` that calls for `planned` restarts. */
export function buildPendingRollout(owed: PendingRollout | undefined, planned: string[], hash: string, now: string): PendingRollout | null {
  const since = new Map<string, string>();
  for (const w of owed?.workloads ?? []) since.set(w, owedSince(owed as PendingRollout, w));
  for (const w of planned) if (!since.has(w)) since.set(w, now);
  if (since.size === 0) return null;
  const workloads = [...since.keys()].sort();
  const oldest = [...since.values()].reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b));
  return { hash, since: oldest, workloads, owed: workloads.map((workload) => ({ workload, since: since.get(workload) as string })) };
}

/** The owed restarts once `workload` has been restarted (or has gone); null when none are left. */
export function withoutWorkload(pending: PendingRollout, workload: string): PendingRollout | null {
  const workloads = pending.workloads.filter((w) => w !== workload);
  if (workloads.length === 0) return null;
  const owed = workloads.map((w) => ({ workload: w, since: owedSince(pending, w) }));
  const oldest = owed.map((o) => o.since).reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b));
  return { ...pending, since: oldest, workloads, owed };
}
