import type { KubeClient, KubeObject, Resource } from '../../kube/kube-port.js';
import { ConflictError, NotFoundError } from '../../kube/kube-errors.js';

/**
 * How a client view answers: normally, with an error (partition), never (hung connection), or
 * once `releaseHeld` is called (a slow connection).
 */
export type FakeLeaseMode = 'ok' | 'fail' | 'hang' | 'hold';

/**
 * An in-memory API server for Leases only, with resourceVersion checks on replace.
 * Several replicas share one store; each gets its own client view whose mode can be changed.
 */
export class FakeLeaseStore {
  private readonly objects = new Map<string, KubeObject>();
  private version = 0;
  /** Successful writes, in order (for assertions). */
  readonly writes: KubeObject[] = [];

  client(): FakeLeaseClient {
    return new FakeLeaseClient(this);
  }

  /** The stored lease, or undefined. */
  peek(name: string, namespace: string): KubeObject | undefined {
    const obj = this.objects.get(`${namespace}/${name}`);
    return obj && structuredClone(obj);
  }

  read(res: Resource, name: string, namespace?: string): KubeObject | undefined {
    checkLease(res);
    return this.peek(name, namespace ?? '');
  }

  insert(res: Resource, obj: KubeObject): KubeObject {
    checkLease(res);
    const key = keyOf(obj);
    if (this.objects.has(key)) throw new ConflictError(`leases "${obj.metadata.name}" already exists`, 409, 'AlreadyExists');
    return this.store(key, obj);
  }

  update(res: Resource, obj: KubeObject): KubeObject {
    checkLease(res);
    const key = keyOf(obj);
    const current = this.objects.get(key);
    if (!current) throw new NotFoundError(`leases "${obj.metadata.name}" not found`, 404, 'NotFound');
    if (obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw new ConflictError('the object has been modified; please apply your changes to the latest version', 409, 'Conflict');
    }
    return this.store(key, obj);
  }

  private store(key: string, obj: KubeObject): KubeObject {
    const saved = structuredClone(obj);
    saved.metadata.resourceVersion = String(++this.version);
    this.objects.set(key, saved);
    this.writes.push(structuredClone(saved));
    return structuredClone(saved);
  }
}

/** One replica's connection to a FakeLeaseStore. Only get/create/replace are implemented. */
export class FakeLeaseClient implements KubeClient {
  mode: FakeLeaseMode = 'ok';
  calls = 0;
  private held: (() => void)[] = [];

  constructor(private readonly store: FakeLeaseStore) {}

  async get<T extends KubeObject>(res: Resource, name: string, namespace?: string): Promise<T | undefined> {
    await this.gate();
    return this.store.read(res, name, namespace) as T | undefined;
  }

  async create<T extends KubeObject>(res: Resource, obj: T): Promise<T> {
    await this.gate();
    return this.store.insert(res, obj) as T;
  }

  async replace<T extends KubeObject>(res: Resource, obj: T): Promise<T> {
    await this.gate();
    return this.store.update(res, obj) as T;
  }

  list(): never {
    throw new Error('FakeLeaseClient.list is not implemented');
  }
  apply(): never {
    throw new Error('FakeLeaseClient.apply is not implemented');
  }
  patch(): never {
    throw new Error('FakeLeaseClient.patch is not implemented');
  }
  delete(): never {
    throw new Error('FakeLeaseClient.delete is not implemented');
  }
  createEvent(): never {
    throw new Error('FakeLeaseClient.createEvent is not implemented');
  }

  createToken(): never {
    throw new Error('FakeLeaseClient.createToken is not implemented');
  }

  /** Lets every request held in mode 'hold' go on. */
  releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const go of held) go();
  }

  private gate(): Promise<void> {
    this.calls++;
    if (this.mode === 'fail') return Promise.reject(new Error('connection refused'));
    if (this.mode === 'hang') return new Promise<void>(() => undefined);
    if (this.mode === 'hold') return new Promise<void>((go) => this.held.push(go));
    return Promise.resolve();
  }
}

function checkLease(res: Resource): void {
  if (res.plural !== 'leases') throw new Error(`FakeLeaseStore only serves leases, not ${res.plural}`);
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}
