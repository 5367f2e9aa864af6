/**
 * Reads Kubernetes manifests for `lockstep check` and `lockstep migrate`: files, directories
 * (every *.yaml / *.yml below them, sorted) or stdin ("-"), each a stream of YAML documents
 * (Helm's rendered output included). Documents keep their yaml.Document, so comments, order and
 * each node's line survive, and any path in an object can be named by file:line.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node, type Tags } from 'yaml';

export type FieldPath = (string | number)[];

export interface ManifestDocument {
  /** The file as given (relative to the working directory), or "<stdin>". */
  source: string;
  /** Position of the document in its file, from 0. */
  index: number;
  document: Document.Parsed;
  /** The document as plain data; undefined for an empty document. */
  object: unknown;
  /** The 1-based line of the field at `path`, or of its nearest ancestor that exists. */
  lineOf(path: FieldPath): number;
  /** Syntax errors of this document, each with its line. */
  errors: { line: number; message: string }[];
}

export interface ManifestFile {
  source: string;
  text: string;
  documents: ManifestDocument[];
}

export class InputError extends Error {}

const YAML_FILE = /\.ya?ml$/i;

/** Expands directories into their YAML files (sorted, recursively); keeps files and "-" as given. */
export async function listInputs(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push(path);
      continue;
    }
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new InputError(`${path}: no such file or directory`);
    if (info.isDirectory()) out.push(...(await listYamlFiles(path)));
    else out.push(path);
  }
  return out;
}

async function listYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listYamlFiles(path)));
    else if (YAML_FILE.test(entry.name)) out.push(path);
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads and parses every input. `readText` is for tests. */
export async function readManifests(paths: string[], readText: (path: string) => Promise<string> = defaultRead): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const path of await listInputs(paths)) {
    const source = path === '-' ? '<stdin>' : relative(process.cwd(), path) || path;
    files.push(parseManifests(source, await readText(path)));
  }
  return files;
}

function defaultRead(path: string): Promise<string> {
  return path === '-' ? readStdin() : readFile(path, 'utf8');
}

/**
 * YAML as kubectl reads it (go-yaml v2, YAML 1.1): `y`, `n`, `yes`, `no`, `on`, `off` are
 * booleans and `0755` is octal, so `property: n` is what the API server will see, a boolean; but
 * neither sexagesimal numbers (`1:30`) nor timestamps, which stay strings.
 */
const GO_YAML_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const KUBECTL_YAML = {
  version: '1.1' as const,
  customTags: (tags: Tags) =>
    tags
      .filter((t) => typeof t !== 'object' || (t.format !== 'TIME' && t.tag !== 'tag:yaml.org,2002:timestamp'))
      // go-yaml's floats need a digit: ".", "e5" and ".e5" stay strings.
      .map((t) => (typeof t === 'object' && t.tag === 'tag:yaml.org,2002:float' && 'test' in t && t.test && !/inf|nan/i.test(t.test.source) ? { ...t, test: GO_YAML_FLOAT } : t)),
};

/** Parses one stream of YAML documents. */
export function parseManifests(source: string, text: string): ManifestFile {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, ...KUBECTL_YAML });
  const list = Array.isArray(docs) ? docs : [];
  const line = (offset: number) => lineCounter.linePos(offset).line;
  const documents = list.map((document, index): ManifestDocument => {
    const errors = document.errors.map((e) => ({ line: line(e.pos[0]), message: e.message.split('\n')[0] ?? e.message }));
    const docStart = document.contents?.range?.[0] ?? document.range[0];
    let object: unknown;
    try {
      object = errors.length > 0 ? undefined : (document.toJS({ maxAliasCount: 1000 }) as unknown);
    } catch (err) {
      // yaml refuses documents whose aliases expand too far (a "billion laughs" input).
      errors.push({ line: line(docStart), message: (err as Error).message });
    }
    return {
      source,
      index,
      document,
      object,
      errors,
      lineOf: (path) => line(offsetOf(document.contents, path) ?? docStart),
    };
  });
  return { source, text, documents };
}

/** The offset of the key (for a map entry) or item at `path`, or of the deepest ancestor found. */
export function offsetOf(root: unknown, path: FieldPath): number | undefined {
  let node = root as Node | null | undefined;
  let best = node?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (!pair) break;
      best = (pair.key as Node | null)?.range?.[0] ?? best;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      best = item.range?.[0] ?? best;
      node = item;
    } else break;
  }
  return best;
}
