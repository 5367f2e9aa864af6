import type { KubeClient, KubeObject } from '../kube/kube-port.js';
import type { Logger } from '../observability/logger.js';
import type { SecretScrubber } from '../observability/secret-scrubber.js';

/**
 * Records Events about our objects. A failure to record is logged, never fatal. Messages pass the
 * same scrubber as the logs, so a value an error happened to carry never reaches an Event.
 */
export class EventRecorder {
  constructor(private readonly deps: { kube: KubeClient; log: Logger; scrubber?: SecretScrubber }) {}

  async record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, text: string): Promise<void> {
    const message = this.deps.scrubber?.scrub(text) ?? text;
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
