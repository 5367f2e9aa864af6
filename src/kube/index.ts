/** The public face of `src/kube/`: the port, its errors, the client factory and the informer. */
export * from './kube-port.js';
export * from './kube-errors.js';
export {
  createKubeClient,
  type KubeClientHandle, type KubeClientOptions, type ListRequestOptions, type ListResult, type ListWatchSource,
} from './kube-client.js';
export type { KubeRequestMetrics } from './kube-transport.js';
export { WatchIdleError, type WatchEvent, type WatchEventType, type WatchOptions } from './kube-watch.js';
export { loadKubeAccess, type KubeAccess } from './kube-access.js';
export { createInformer, WatchdogTimeout, type InformerLog, type InformerOptions } from './resilient-informer.js';
export { mergeNamespaceInformers } from './multi-namespace-informer.js';
export { buildEvent, formatMicroTime, REPORTING_CONTROLLER } from './event-builder.js';
export { computeBackoffMs, type BackoffPolicy } from './backoff-policy.js';
