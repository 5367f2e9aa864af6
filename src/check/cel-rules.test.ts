import { buildCrds } from '../api/crd-builder.js';
import { CelUnsupported, evaluateRule } from './cel-rules.js';

function rulesIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(rulesIn);
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'x-kubernetes-validations' ? (value as { rule: string }[]).map((r) => r.rule) : rulesIn(value),
  );
}

describe('evaluateRule', () => {
  it('evaluates every rule of the generated CRDs offline (a new rule beyond the subset fails here)', () => {
    const rules = rulesIn(buildCrds());
    expect(rules.length).toBeGreaterThan(3);
    for (const rule of rules) expect(() => evaluateRule(rule, {})).not.toThrow();
  });

  it.each([
    ['has(self.extract) != has(self.find)', { extract: {} }, true],
    ['has(self.extract) != has(self.find)', { extract: {}, find: {} }, false],
    ['(has(self.data) && size(self.data) > 0) || (has(self.dataFrom) && size(self.dataFrom) > 0)', { data: [] }, false],
    ['(has(self.data) && size(self.data) > 0) || (has(self.dataFrom) && size(self.dataFrom) > 0)', { dataFrom: [{}] }, true],
    ["!has(self.d) || self.d != 'Delete' || !has(self.c) || self.c in ['Owner', 'Orphan']", { d: 'Delete', c: 'Merge' }, false],
    ["!has(self.d) || self.d != 'Delete' || !has(self.c) || self.c in ['Owner', 'Orphan']", { d: 'Delete', c: 'Orphan' }, true],
    ['self.a.b == "x" && size(self.s) >= 2', { a: { b: 'x' }, s: 'ab' }, true],
    ['!(self.n < 3)', { n: 5 }, true],
  ])('%s on %j is %s', (rule, self, expected) => {
    expect(evaluateRule(rule, self)).toBe(expected);
  });

  it('says when a rule is beyond the subset', () => {
    expect(() => evaluateRule('self.all(x, x > 1)', [])).toThrow(CelUnsupported);
    expect(() => evaluateRule("self.matches('^a')", 'a')).toThrow(CelUnsupported);
  });
});
