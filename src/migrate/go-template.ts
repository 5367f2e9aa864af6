/**
 * Converts ESO's Go templates (text/template with sprig; engineVersion v1 and v2) into Lockstep's
 * Mustache. What converts: field references (`.key`, `index . "tls.crt"`), the identity
 * conversions (`toString`, `toBytes`, `string`), `if`/`if not`/`else`/`with`/`end`, comments and
 * whitespace trimming (`{{-`, `-}}`). Anything else (sprig functions, `range`, variables, literals)
 * is named as the reason the template cannot be converted.
 */
export type TemplateConversion = { ok: true; text: string } | { ok: false; reason: string };

interface Action {
  body: string;
  trimLeft: boolean;
  trimRight: boolean;
}

type Piece = { text: string } | { action: Action };

const IDENTITY_FUNCTIONS = new Set(['toString', 'toBytes', 'string']);

/** Splits a Go template into text and actions, applying the trim markers to the text around them. */
function lex(source: string): Piece[] | string {
  const pieces: Piece[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    if (open < 0) {
      pieces.push({ text: source.slice(pos) });
      break;
    }
    pieces.push({ text: source.slice(pos, open) });
    const close = findClose(source, open + 2);
    if (close < 0) return 'an action is not closed with }}';
    let body = source.slice(open + 2, close);
    const trimLeft = /^-\s/.test(body);
    const trimRight = /\s-$/.test(body);
    body = body.slice(trimLeft ? 1 : 0, trimRight ? -1 : undefined).trim();
    pieces.push({ action: { body, trimLeft, trimRight } });
    pos = close + 2;
  }
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as Piece;
    if (!('action' in piece)) continue;
    const before = pieces[i - 1];
    const after = pieces[i + 1];
    if (piece.action.trimLeft && before && 'text' in before) before.text = before.text.replace(/\s+$/, '');
    if (piece.action.trimRight && after && 'text' in after) after.text = after.text.replace(/^\s+/, '');
  }
  return pieces;
}

/** The index of the `}}` closing an action, skipping string literals. */
function findClose(source: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < source.length - 1; i++) {
    const c = source[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '}' && source[i + 1] === '}') return i;
  }
  return -1;
}

/** A key from `.key`, `index . "key"`, `(index . "key")`, optionally piped through identity functions. */
function parseReference(pipeline: string, dot: 'root' | 'value'): { key: string } | { dot: true } | { error: string } {
  const stages = pipeline.split('|').map((s) => s.trim());
  const [head, ...rest] = stages;
  for (const fn of rest) {
    if (!IDENTITY_FUNCTIONS.has(fn)) return { error: `the function '${fn.split(/\s+/)[0]}' has no Mustache equivalent` };
  }
  const h = (head ?? '').replace(/^\((.*)\)$/, '$1').trim();
  if (h === '.') return dot === 'value' ? { dot: true } : { error: "'.' (all the data) has no Mustache equivalent" };
  const field = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(h);
  const index = /^index\s+\.\s+(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)$/.exec(h);
  const key = field?.[1] ?? index?.[1]?.replace(/\\(.)/g, '$1') ?? index?.[2];
  if (key !== undefined && dot === 'value') return { error: `'${h}' inside 'with' reads a field of the value, which Mustache cannot` };
  if (key !== undefined) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) return { error: `the key '${key}' is not a valid Secret key` };
    return { key };
  }
  const word = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(h)?.[1];
  if (h.startsWith('$')) return { error: 'template variables have no Mustache equivalent' };
  if (/^(printf\s+)?("|`).*\{\{/.test(h)) {
    return { error: 'it is a Helm escape of a template ({{ `{{ .key }}` }}): this is a Helm chart\'s source; migrate the output of `helm template` instead' };
  }
  if (h.startsWith('"') || h.startsWith('`') || /^[0-9]/.test(h)) return { error: `the literal ${h} has no Mustache equivalent` };
  if (word) return { error: `the function '${word}' has no Mustache equivalent` };
  return { error: `'${h}' has no Mustache equivalent` };
}

interface Frame {
  kind: 'if' | 'ifnot' | 'with';
  key: string;
  inElse: boolean;
}

/** Converts one Go template; see the file comment for what converts. */
export function convertGoTemplate(source: string): TemplateConversion {
  const pieces = lex(source);
  if (typeof pieces === 'string') return { ok: false, reason: pieces };
  let out = '';
  const stack: Frame[] = [];
  for (const piece of pieces) {
    if ('text' in piece) {
      if (piece.text.includes('{{')) return { ok: false, reason: 'the text contains "{{"' };
      out += piece.text;
      continue;
    }
    const converted = convertAction(piece.action.body, stack);
    if ('error' in converted) return { ok: false, reason: converted.error };
    out += converted.text;
  }
  if (stack.length > 0) return { ok: false, reason: `'${stack[stack.length - 1]?.kind === 'with' ? 'with' : 'if'}' is not closed with {{ end }}` };
  return { ok: true, text: out };
}

function convertAction(body: string, stack: Frame[]): { text: string } | { error: string } {
  if (/^\/\*[\s\S]*\*\/$/.test(body)) return { text: '' };
  const top = stack[stack.length - 1];
  const dot = top?.kind === 'with' && !top.inElse ? 'value' : 'root';
  const [word = '', ...restWords] = body.split(/\s+/);
  const rest = restWords.join(' ');
  switch (word) {
    case 'if':
    case 'with': {
      const negated = word === 'if' && /^not\s+/.test(rest);
      const ref = parseReference(negated ? rest.replace(/^not\s+/, '').replace(/^\((.*)\)$/, '$1') : rest, dot);
      if ('error' in ref) return { error: `${word} ${rest}: ${ref.error}` };
      if (!('key' in ref)) return { error: `${word} .: has no Mustache equivalent` };
      stack.push({ kind: word === 'with' ? 'with' : negated ? 'ifnot' : 'if', key: ref.key, inElse: false });
      return { text: `{{${negated ? '^' : '#'}${ref.key}}}` };
    }
    case 'else': {
      if (!top || top.inElse) return { error: "'else' without 'if'" };
      if (rest) return { error: `'else ${rest}' has no Mustache equivalent` };
      top.inElse = true;
      return { text: `{{/${top.key}}}{{${top.kind === 'ifnot' ? '#' : '^'}${top.key}}}` };
    }
    case 'end': {
      const frame = stack.pop();
      if (!frame) return { error: "'end' without 'if' or 'with'" };
      return { text: `{{/${frame.key}}}` };
    }
    case 'range':
    case 'define':
    case 'template':
    case 'block':
    case 'break':
    case 'continue':
      return { error: `'${word}' has no Mustache equivalent` };
    default: {
      const ref = parseReference(body, dot);
      if ('error' in ref) return { error: ref.error };
      return { text: 'dot' in ref ? '{{.}}' : `{{ ${ref.key} }}` };
    }
  }
}
