import type { KubeClient } from '../kube/kube-port.js';
import { REDACTED, SecretScrubber } from '../observability/secret-scrubber.js';
import { buildMemoryLogger } from '../runtime/testing/memory-logger.js';
import { EventRecorder } from './event-recorder.js';

describe('EventRecorder', () => {
  test('an Event message passes the scrubber: a fetched value never reaches it, raw or base64', async () => {
    const sent: string[] = [];
    const kube = { createEvent: async (ev: { message: string }) => { sent.push(ev.message); } } as unknown as KubeClient;
    const scrubber = new SecretScrubber();
    scrubber.add('hunter2-event-value');
    const recorder = new EventRecorder({ kube, log: buildMemoryLogger().log, scrubber });
    const es = { apiVersion: 'lockstep.dev/v1alpha1', kind: 'ExternalSecret', metadata: { name: 'db', namespace: 'a' } };
    await recorder.record(es, 'Warning', 'ProviderError', `remote key 'hunter2-event-value' (${Buffer.from('hunter2-event-value').toString('base64')}) failed`);
    expect(sent).toEqual([`remote key '${REDACTED}' (${REDACTED}) failed`]);
  });
});
