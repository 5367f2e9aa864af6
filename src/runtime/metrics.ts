import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ReconcileOutcome = 'success' | 'error' | 'requeue';

/** Live sizes of a work queue, read when metrics are scraped. */
export interface QueueGauges {
  /** Keys ready to be handed to a worker. */
  len(): number;
  /** Keys waiting for their due time (requeue-after and backoff). */
  delayedLen(): number;
}

/** The part of the runtime metrics a work queue reports to. */
export interface WorkQueueMetrics {
  /** Starts reporting a queue's gauges under `name`; the returned function stops it. */
  registerQueue(name: string, gauges: QueueGauges): () => void;
  recordRetry(name: string): void;
}

export interface RuntimeMetrics extends WorkQueueMetrics {
  observeReconcile(controller: string, outcome: ReconcileOutcome, seconds: number): void;
}

const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Creates the runtime's metrics in `registry` (never the global default registry). */
export function buildRuntimeMetrics(registry: Registry): RuntimeMetrics {
  const queues = new Map<string, QueueGauges>();
  const duration = new Histogram({
    name: 'lockstep_reconcile_duration_seconds',
    help: 'Time taken by one reconcile of one key.',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [registry],
  });
  const results = new Counter({
    name: 'lockstep_reconcile_total',
    help: 'Reconciles by outcome: success, error (retried with backoff) or requeue (success with requeue-after).',
    labelNames: ['controller', 'result'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'lockstep_workqueue_retries_total',
    help: 'Keys re-added to a work queue with per-key backoff after a failure.',
    labelNames: ['name'] as const,
    registers: [registry],
  });
  queueGauge(registry, queues, 'lockstep_workqueue_depth', 'Keys ready and waiting for a worker.', (q) => q.len());
  queueGauge(registry, queues, 'lockstep_workqueue_delayed', 'Keys scheduled for later (requeue-after or backoff).', (q) =>
    q.delayedLen(),
  );
  return {
    observeReconcile(controller, outcome, seconds) {
      duration.observe({ controller }, seconds);
      results.inc({ controller, result: outcome });
    },
    registerQueue(name, gauges) {
      queues.set(name, gauges);
      return () => {
        if (queues.get(name) === gauges) queues.delete(name);
      };
    },
    recordRetry(name) {
      retries.inc({ name });
    },
  };
}

function queueGauge(
  registry: Registry,
  queues: ReadonlyMap<string, QueueGauges>,
  name: string,
  help: string,
  read: (q: QueueGauges) => number,
): void {
  new Gauge({
    name,
    help,
    labelNames: ['name'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [queue, gauges] of queues) this.set({ name: queue }, read(gauges));
    },
  });
}
