/**
 * The Secret index: every Secret in the watched namespaces, as metadata only and trimmed to what
 * the ownership check reads (name, uid, resourceVersion, our managed label and owner annotation;
 * only name and resourceVersion for the Secrets we manage, which their own cache holds).
 * It answers "does a Secret of this name exist, and whose is it?" from memory, so the first sync
 * of an ExternalSecret needs no GET of its target. A Secret costs it a few hundred bytes; the
 * full Secrets (with data) are cached only for the ones we manage.
 */
import { Annotations, Labels } from '../../api/constants.js';
import type { KubeObject } from '../../kube/kube-port.js';

export function buildSecretIndexEntry(obj: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, labels, annotations } = obj.metadata;
  const managed = labels?.[Labels.managed];
  // Ours are in the cache of managed Secrets too: here they only need to exist.
  if (managed === 'true') return { metadata: { name, namespace, resourceVersion } };
  const owner = annotations?.[Annotations.owner];
  return {
    metadata: {
      name, namespace, uid, resourceVersion,
      ...(managed !== undefined ? { labels: { [Labels.managed]: managed } } : {}),
      ...(owner !== undefined ? { annotations: { [Annotations.owner]: owner } } : {}),
    },
  };
}
