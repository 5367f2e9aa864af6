import type { KubeClient, KubeObject } from '../kube/kube-port.js';
import type { Logger } from '../observability/logger.js';

/** Records Events about our objects. A failure to record is logged, never fatal. */
export class EventRecorder {
  constructor(private readonly deps: { kube: KubeClient; log: Logger }) {}

  async record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    try {
      await this.deps.kube.createEvent({
        regarding: {
          apiVersion: obj.apiVersion ?? '',
          kind: obj.kind ?? '',
          name: obj.metadata.name ?? '',
          namespace: obj.metadata.namespace,
          uid: obj.metadata.uid,
        },
        type,
        reason,
        message,
        action: 'Reconcile',
      });
    } catch (err) {
      this.deps.log.warn({ err, reason }, 'could not record an event');
    }
  }
}
