/**
 * Evaluates the CRDs' `x-kubernetes-validations` rules offline. It covers the subset of CEL our
 * rules use — `self.a.b`, `has(...)`, `size(...)`, `!`, `&&`, `||`, `==`, `!=`, `<`, `<=`, `>`,
 * `>=`, `in [...]`, string, number, bool and list literals, parentheses — and says so when a rule
 * goes beyond it (a unit test runs every rule of the generated CRDs through it).
 */
export class CelUnsupported extends Error {}

type Value = unknown;
type Token = { kind: 'op' | 'ident' | 'string' | 'number'; text: string };

const TOKEN = /\s*(?:(\|\||&&|==|!=|<=|>=|[()[\],.!<>])|([A-Za-z_][A-Za-z0-9_]*)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([0-9]+(?:\.[0-9]+)?))/y;

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < rule.length) {
    if (/^\s*$/.test(rule.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(rule);
    if (!m) throw new CelUnsupported(`cannot read the rule at "${rule.slice(pos, pos + 12)}"`);
    pos = TOKEN.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'op', text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'ident', text: m[2] });
    else if (m[3] !== undefined || m[4] !== undefined) tokens.push({ kind: 'string', text: (m[3] ?? m[4] ?? '').replace(/\\(.)/g, '$1') });
    else tokens.push({ kind: 'number', text: m[5] ?? '0' });
  }
  return tokens;
}

/** A tiny recursive-descent evaluator; `self` is the object the rule is attached to. */
class Evaluator {
  private pos = 0;
  constructor(private readonly tokens: Token[], private readonly self: Value) {}

  run(): boolean {
    const value = this.or();
    if (this.pos !== this.tokens.length) throw new CelUnsupported(`unexpected "${this.peek()?.text}"`);
    if (typeof value !== 'boolean') throw new CelUnsupported('the rule does not give a boolean');
    return value;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  private accept(text: string): boolean {
    if (this.peek()?.kind === 'op' && this.peek()?.text === text) {
      this.pos++;
      return true;
    }
    if (this.peek()?.kind === 'ident' && this.peek()?.text === text && text === 'in') {
      this.pos++;
      return true;
    }
    return false;
  }
  private expect(text: string): void {
    if (!this.accept(text)) throw new CelUnsupported(`expected "${text}"`);
  }

  private or(): Value {
    let left = this.and();
    while (this.accept('||')) {
      const right = this.and();
      left = left === true || right === true;
    }
    return left;
  }
  private and(): Value {
    let left = this.equality();
    while (this.accept('&&')) {
      const right = this.equality();
      left = left === true && right === true;
    }
    return left;
  }
  private equality(): Value {
    let left = this.relation();
    for (;;) {
      if (this.accept('==')) left = JSON.stringify(left) === JSON.stringify(this.relation());
      else if (this.accept('!=')) left = JSON.stringify(left) !== JSON.stringify(this.relation());
      else return left;
    }
  }
  private relation(): Value {
    const left = this.unary();
    for (const op of ['<=', '>=', '<', '>', 'in']) {
      if (!this.accept(op)) continue;
      const right = this.unary();
      if (op === 'in') {
        if (!Array.isArray(right)) throw new CelUnsupported('"in" needs a list');
        return right.some((v) => JSON.stringify(v) === JSON.stringify(left));
      }
      const [a, b] = [Number(left), Number(right)];
      return op === '<=' ? a <= b : op === '>=' ? a >= b : op === '<' ? a < b : a > b;
    }
    return left;
  }
  private unary(): Value {
    if (this.accept('!')) return !this.unary();
    return this.primary();
  }
  private primary(): Value {
    const token = this.tokens[this.pos++];
    if (!token) throw new CelUnsupported('the rule ends early');
    if (token.kind === 'string') return token.text;
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'op' && token.text === '(') {
      const value = this.or();
      this.expect(')');
      return value;
    }
    if (token.kind === 'op' && token.text === '[') return this.list();
    if (token.kind === 'ident') return this.identifier(token.text);
    throw new CelUnsupported(`unexpected "${token.text}"`);
  }
  private list(): Value[] {
    const items: Value[] = [];
    while (!this.accept(']')) {
      items.push(this.or());
      if (!this.accept(',')) {
        this.expect(']');
        break;
      }
    }
    return items;
  }
  private identifier(name: string): Value {
    if (name === 'true' || name === 'false') return name === 'true';
    if (name === 'self') return this.member(this.self, false).value;
    if (name === 'has' || name === 'size') {
      this.expect('(');
      let value: Value;
      if (name === 'has') {
        const selfToken = this.tokens[this.pos++];
        if (selfToken?.text !== 'self') throw new CelUnsupported('has() takes a field of self');
        value = this.member(this.self, true).present;
      } else {
        const arg = this.or();
        value = typeof arg === 'string' || Array.isArray(arg) ? arg.length : arg && typeof arg === 'object' ? Object.keys(arg).length : 0;
      }
      this.expect(')');
      return value;
    }
    throw new CelUnsupported(`"${name}" is not supported offline`);
  }
  private member(start: Value, forHas: boolean): { value: Value; present: boolean } {
    let value = start;
    let present = true;
    while (this.accept('.')) {
      const field = this.tokens[this.pos++];
      if (field?.kind !== 'ident') throw new CelUnsupported('expected a field name');
      const holder = value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
      present = holder !== undefined && field.text in holder;
      value = holder?.[field.text];
    }
    if (!forHas && !present) return { value: undefined, present };
    return { value, present };
  }
}

/** True when `self` satisfies the rule; throws CelUnsupported when the rule is beyond the subset. */
export function evaluateRule(rule: string, self: Value): boolean {
  return new Evaluator(tokenize(rule), self).run();
}
