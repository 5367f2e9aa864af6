/**
 * Which Secrets a pod template reads, and which of their keys: env `secretKeyRef` reads one key;
 * `envFrom`, whole `secret` volumes and projected sources without `items` read every key.
 * Pure functions over the pod spec.
 */

/** Every key of the Secret is consumed. */
export const ALL_KEYS = 'all' as const;
export type ConsumedKeys = typeof ALL_KEYS | Set<string>;

interface KeyToPath {
  key: string;
}
interface Container {
  env?: { valueFrom?: { secretKeyRef?: { name?: string; key: string } } }[];
  envFrom?: { secretRef?: { name?: string } }[];
}
export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: {
    secret?: { secretName?: string; items?: KeyToPath[] };
    projected?: { sources?: { secret?: { name?: string; items?: KeyToPath[] } }[] };
  }[];
}

class Usage {
  readonly bySecret = new Map<string, ConsumedKeys>();

  add(secret: string | undefined, keys: KeyToPath[] | string | undefined): void {
    if (!secret) return;
    const current = this.bySecret.get(secret);
    if (current === ALL_KEYS) return;
    if (keys === undefined || (Array.isArray(keys) && keys.length === 0)) {
      this.bySecret.set(secret, ALL_KEYS);
      return;
    }
    const set = current ?? new Set<string>();
    for (const k of typeof keys === 'string' ? [keys] : keys.map((i) => i.key)) set.add(k);
    this.bySecret.set(secret, set);
  }
}

/** The Secrets a pod spec reads, each with the keys it reads. */
export function findSecretUsage(spec: PodSpec | undefined): Map<string, ConsumedKeys> {
  const usage = new Usage();
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) usage.add(ref.name, ref.key);
    }
    for (const e of c.envFrom ?? []) usage.add(e.secretRef?.name, undefined);
  }
  for (const v of spec?.volumes ?? []) {
    if (v.secret) usage.add(v.secret.secretName, v.secret.items);
    for (const source of v.projected?.sources ?? []) {
      if (source.secret) usage.add(source.secret.name, source.secret.items);
    }
  }
  return usage.bySecret;
}

/** True when a change of `changedKeys` touches what the workload reads of the Secret. */
export function shouldRestartFor(consumed: ConsumedKeys | undefined, changedKeys: string[]): boolean {
  if (consumed === undefined || consumed === ALL_KEYS) return true; // not visible in the template: assume all
  return changedKeys.some((k) => consumed.has(k));
}

/** The Secret names a workload opted in to, from its `lockstep.dev/restart-on` annotation. */
export function parseRestartOn(value: string | undefined, usage: Map<string, ConsumedKeys>): Set<string> {
  if (!value) return new Set();
  if (value.trim() === 'auto') return new Set(usage.keys());
  return new Set(value.split(',').map((s) => s.trim()).filter(Boolean));
}
