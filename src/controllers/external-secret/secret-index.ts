/**
 * The Secret index: every Secret in the watched namespaces, as metadata only and trimmed to what
 * the ownership check reads (name, uid, resourceVersion, our managed label and owner annotation).
 * It answers "does a Secret of this name exist, and whose is it?" from memory, so the first sync
 * of an ExternalSecret needs no GET of its target. A Secret costs it a few hundred bytes; the
 * full Secrets (with data) are cached only for the ones we manage.
 */
import { Annotations, Labels } from '../../api/constants.js';
import type { KubeObject } from '../../kube/kube-port.js';

export function buildSecretIndexEntry(obj: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, labels, annotations } = obj.metadata;
  const managed = labels?.[Labels.managed];
  const owner = annotations?.[Annotations.owner];
  return {
    metadata: {
      name, namespace, uid, resourceVersion,
      ...(managed !== undefined ? { labels: { [Labels.managed]: managed } } : {}),
      ...(owner !== undefined ? { annotations: { [Annotations.owner]: owner } } : {}),
    },
  };
}
