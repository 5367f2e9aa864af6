/**
 * One ESO object being converted in place: a yaml.Document edited through paths, so what is not
 * touched keeps its comments, order and style, plus the list of what could not be converted.
 */
import { isMap, isNode, isScalar, isSeq, type Document } from 'yaml';
import type { FieldPath, ManifestDocument } from '../check/manifest-reader.js';
import { formatPath } from '../check/check-manifests.js';

/**
 * unsupported: an ESO feature Lockstep lacks; the field is removed and the object is not a faithful
 * conversion (the exit code says so). review: converted, but a person should confirm an assumption.
 * dropped: a field with no meaning for Lockstep, removed without changing what is synced.
 * note: a change made to keep ESO's behaviour (an added rewrite, say).
 */
export type ProblemLevel = 'unsupported' | 'review' | 'dropped' | 'note';

export interface MigrationProblem {
  level: ProblemLevel;
  field: string;
  line: number;
  message: string;
}

export class ObjectMigration {
  readonly problems: MigrationProblem[] = [];
  readonly doc: Document.Parsed;

  constructor(private readonly source: ManifestDocument) {
    this.doc = source.document;
  }

  /** The plain value at `path` (undefined when absent). */
  get(path: FieldPath): unknown {
    const node = this.doc.getIn(path, true);
    if (node === undefined) return undefined;
    return isNode(node) ? node.toJSON() : node;
  }

  has(path: FieldPath): boolean {
    return this.doc.hasIn(path);
  }

  /** Keys of the map at `path`, in document order. */
  keys(path: FieldPath): string[] {
    const node = this.doc.getIn(path, true);
    if (!isMap(node)) return [];
    return node.items.map((p) => String(isNode(p.key) ? (p.key as { value?: unknown }).value ?? p.key.toJSON() : p.key));
  }

  length(path: FieldPath): number {
    const node = this.doc.getIn(path, true);
    return isSeq(node) ? node.items.length : 0;
  }

  /** Sets a value; a scalar replacing a scalar keeps the old one's style (quotes, block) and comments. */
  set(path: FieldPath, value: unknown): void {
    const current = this.doc.getIn(path, true);
    if (isScalar(current) && (value === null || typeof value !== 'object')) {
      current.value = value;
      return;
    }
    this.ensureParents(path);
    this.doc.setIn(path, isNode(value) ? value : this.doc.createNode(value));
  }

  /**
   * Creates missing parent maps as plain maps: yaml's setIn would create them from a JS Map, which
   * the YAML 1.1 schema (kubectl's, see manifest-reader) writes as !!omap.
   */
  private ensureParents(path: FieldPath): void {
    for (let i = 1; i < path.length; i++) {
      const prefix = path.slice(0, i);
      if (!this.doc.hasIn(prefix)) this.doc.setIn(prefix, this.doc.createNode({}));
    }
  }

  /** Moves the node at `from` to `to`, with its comments. */
  move(from: FieldPath, to: FieldPath): void {
    const node = this.doc.getIn(from, true);
    if (node === undefined) return;
    this.doc.deleteIn(from);
    this.ensureParents(to);
    this.doc.setIn(to, node);
  }

  remove(path: FieldPath): void {
    this.doc.deleteIn(path);
  }

  /** Records a problem at `path` (its line is taken before any removal). */
  report(level: ProblemLevel, path: FieldPath, message: string): void {
    this.problems.push({ level, field: formatPath(path), line: this.source.lineOf(path), message });
  }

  /** Reports and removes a field. */
  drop(level: ProblemLevel, path: FieldPath, message: string): void {
    if (!this.has(path)) return;
    this.report(level, path, message);
    this.remove(path);
  }

  /** Reports every key of the map at `path` not in `known` as unsupported, and removes it. */
  dropUnknown(path: FieldPath, known: string[], what: string): void {
    for (const key of this.keys(path)) {
      if (!known.includes(key)) this.drop('unsupported', [...path, key], `${what} '${key}' has no Lockstep equivalent`);
    }
  }
}
