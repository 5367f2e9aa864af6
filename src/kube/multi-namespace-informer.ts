import type { Informer, KubeObject } from './kube-port.js';

/**
 * One informer over several namespaces, made of one informer per namespace (each lists and
 * watches only its own namespace, which is what a Role in that namespace allows). Reads go to the
 * namespace's informer; a read without a namespace concatenates them all.
 */
export function mergeNamespaceInformers<T extends KubeObject>(byNamespace: ReadonlyMap<string, Informer<T>>): Informer<T> {
  const all = [...byNamespace.values()];
  return {
    async start() {
      await Promise.all(all.map((i) => i.start()));
    },
    stop() {
      for (const i of all) i.stop();
    },
    hasSynced: () => all.every((i) => i.hasSynced()),
    get: (name, namespace) => (namespace === undefined ? undefined : byNamespace.get(namespace)?.get(name, namespace)),
    list: (namespace) =>
      namespace === undefined ? all.flatMap((i) => i.list()) : (byNamespace.get(namespace)?.list(namespace) ?? []),
    on(event, handler) {
      for (const i of all) i.on(event, handler);
    },
  };
}
