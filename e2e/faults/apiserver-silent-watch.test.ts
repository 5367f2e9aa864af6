// Issue 12, point 2 (e): a watch that stays connected but stops delivering (a stuck proxy or load
// balancer). The fault proxy keeps the ExternalSecrets watch open and drops everything on it; an
// ExternalSecret created meanwhile must still be synced once the informer notices the silence: the
// watch idle timeout (DEFAULT_IDLE_TIMEOUT_MS, 90 s, src/kube/kube-watch.ts) resumes the watch from
// its resourceVersion, so the missed ADDED event is delivered.
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../src/kube/kube-watch.js';
import { eventually } from '../harness/cluster.js';
import { externalSecret } from '../support/resources.js';
import { blankingsOrDeletions, expectAlive, prepareScenario, readyNames, report, startBehindProxy, waitConverged } from './fault-proxy-fixtures.js';

const WATCH = /\/externalsecrets\?(.*&)?watch=true/;

describe('a watch that goes silent', () => {
  it('(e) is detected within the idle timeout, and a change made during the silence is synced', async () => {
    const s = await prepareScenario('fault-silent', 5);
    try {
      const op = await startBehindProxy(s);
      await waitConverged(s, 1);
      const silencedAt = Date.now();
      const silenced = s.proxy.silenceOpenWatches(WATCH);
      const from = s.proxy.log.length;
      await s.cluster.kubectl(['apply', '-f', '-'], externalSecret(s.ns, 'during-silence', { secretStoreRef: { name: 'st' }, dataFrom: [{ extract: { key: 'db' } }] }));
      let readyAt = 0;
      await eventually(async () => {
        if (!(await readyNames(s.cluster, s.ns)).has('during-silence')) return false;
        readyAt = Date.now();
        return true;
      }, DEFAULT_IDLE_TIMEOUT_MS + 45_000, 'during-silence Ready');
      const silentWatch = s.proxy.log.find((r) => r.verb === 'watch' && WATCH.test(r.path) && r.id < from && r.clientAborted);
      const resumed = s.proxy.log.find((r) => r.id >= from && r.verb === 'watch' && WATCH.test(r.path));
      const detectMs = (silentWatch?.endedAt ?? Infinity) - silencedAt;
      report('silent watch', {
        silencedWatches: silenced, idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS, detectMs,
        resumedAfterMs: resumed ? resumed.startedAt - silencedAt : undefined, syncedAfterMs: readyAt - silencedAt,
        relists: s.proxy.log.filter((r) => r.id >= from && r.verb === 'list').length,
      });
      expect(silenced).toBeGreaterThanOrEqual(1);
      // The operator closed the silent watch itself, within the idle timeout (plus scheduling slack).
      expect(silentWatch).toBeDefined();
      expect(detectMs).toBeLessThanOrEqual(DEFAULT_IDLE_TIMEOUT_MS + 10_000);
      // It resumed from its resourceVersion (no relist needed) and the missed object was synced after that.
      expect(resumed?.path).toMatch(/resourceVersion=\d+/);
      expect(readyAt).toBeGreaterThanOrEqual(resumed?.startedAt ?? Infinity);
      expect(blankingsOrDeletions(s)).toEqual([]);
      expectAlive(op);
    } finally {
      await s.cleanup();
    }
  }, 170_000);
});
