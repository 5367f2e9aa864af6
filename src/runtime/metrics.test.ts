import { Registry } from 'prom-client';
import { buildRuntimeMetrics } from './metrics.js';

describe('buildRuntimeMetrics', () => {
  it('registers the runtime metrics in the given registry only', async () => {
    const registry = new Registry();
    const metrics = buildRuntimeMetrics(registry);
    metrics.observeReconcile('external-secret', 'success', 0.02);
    metrics.observeReconcile('external-secret', 'error', 0.5);
    metrics.recordRetry('external-secret');
    const text = await registry.metrics();
    expect(text).toContain('lockstep_reconcile_total{controller="external-secret",result="success"} 1');
    expect(text).toContain('lockstep_reconcile_total{controller="external-secret",result="error"} 1');
    expect(text).toContain('lockstep_reconcile_duration_seconds_count{controller="external-secret"} 2');
    expect(text).toContain('lockstep_workqueue_retries_total{name="external-secret"} 1');
  });

  it('can be built twice in separate registries (no global state)', () => {
    expect(() => {
      buildRuntimeMetrics(new Registry());
      buildRuntimeMetrics(new Registry());
    }).not.toThrow();
  });

  it('reads queue gauges at scrape time and forgets unregistered queues', async () => {
    const registry = new Registry();
    const metrics = buildRuntimeMetrics(registry);
    let depth = 3;
    const unregister = metrics.registerQueue('q', { len: () => depth, delayedLen: () => 7 });
    expect(await registry.metrics()).toContain('lockstep_workqueue_depth{name="q"} 3');
    depth = 5;
    const text = await registry.metrics();
    expect(text).toContain('lockstep_workqueue_depth{name="q"} 5');
    expect(text).toContain('lockstep_workqueue_delayed{name="q"} 7');
    unregister();
    expect(await registry.metrics()).not.toContain('name="q"');
  });
});
