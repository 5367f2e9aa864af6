import { buildDesiredSecret, computeDataHash, findInvalidKeys, renderTemplate, rewriteKeys } from './secret-builder.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const key = enc('hash-key');

describe('secret builder', () => {
  const fetched = new Map([['user', enc('app')], ['password', enc('s3cr3t')]]);

  it('renders a Mustache template without escaping and keeps fetched keys by default', () => {
    const out = renderTemplate({ data: { url: 'postgres://{{ user }}:{{ password }}@db/<x>' } }, fetched);
    expect(dec(out.get('url'))).toBe('postgres://app:s3cr3t@db/<x>');
    expect(out.has('password')).toBe(true);
  });

  it('with mergePolicy Replace keeps only templated keys', () => {
    const out = renderTemplate({ data: { url: '{{user}}' }, mergePolicy: 'Replace' }, fetched);
    expect([...out.keys()]).toEqual(['url']);
  });

  it('templates cannot reach anything but the fetched data: other names are an error naming them', () => {
    expect(() => renderTemplate({ data: { a: '{{constructor}}{{__proto__}}{{process.env.HOME}}' } }, fetched))
      .toThrow("template for key 'a' names 'constructor', '__proto__', 'process.env.HOME', which the fetched data does not have; the keys it can use are 'user', 'password'");
  });

  it('a key the data does not have is an error, also inside sections; ESO-style names get a hint', () => {
    expect(() => renderTemplate({ data: { a: '{{#user}}{{ pasword }}{{/user}}' } }, fetched)).toThrow("names 'pasword'");
    expect(() => renderTemplate({ data: { a: '{{ .password }}' } }, fetched)).toThrow('Mustache, not Go templates: write {{ password }}');
    expect(() => renderTemplate({ data: { a: '{{ .password | b64dec }}' } }, fetched)).toThrow('not Go templates');
    expect(() => renderTemplate({ data: { a: '{{> partial }}' } }, fetched)).toThrow("names '> partial'");
    expect(() => renderTemplate({ data: { a: '{{#user}}' } }, fetched)).toThrow("template for key 'a' is invalid: Unclosed section");
  });

  it('keys with dots are keys, not paths; sections render when the value is not empty', () => {
    const tls = new Map([['tls.crt', enc('CERT')], ['tls.key', enc('KEY')], ['empty', enc('')]]);
    const out = renderTemplate({ data: {
      pem: '{{ tls.crt }}\n{{{tls.key}}}',
      s: '{{#tls.crt}}has {{.}}{{/tls.crt}}{{#empty}}never{{/empty}}{{^empty}}none{{/empty}}{{! a comment }}',
    } }, tls);
    expect(dec(out.get('pem'))).toBe('CERT\nKEY');
    expect(dec(out.get('s'))).toBe('has CERTnone');
  });

  it('renders values that are not UTF-8 byte for byte, next to UTF-8 template text', () => {
    const binary = new Uint8Array([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x41]);
    const out = renderTemplate({ data: { der: '{{ key }}', both: 'é:{{ key }}:{{#key}}{{.}}{{/key}}' } }, new Map([['key', binary]]));
    expect(Buffer.from(out.get('der') ?? [])).toEqual(Buffer.from(binary));
    expect(Buffer.from(out.get('both') ?? [])).toEqual(Buffer.concat([Buffer.from('é:'), binary, Buffer.from(':'), binary]));
    expect(out.get('key')).toBe(binary); // Merge keeps the fetched bytes as they are
  });

  it('rewrites keys and reports keys a Secret cannot hold', () => {
    const found = new Map([['team/db', enc('x')]]);
    expect(findInvalidKeys(found)).toEqual(['team/db']);
    const rewritten = rewriteKeys(found, [{ regexp: { source: '^team/', target: '' } }]);
    expect([...rewritten.keys()]).toEqual(['db']);
  });

  it('builds a labelled Secret with base64 data and a hash that changes only with the content', () => {
    const spec = { secretStoreRef: { name: 's' }, target: { template: { type: 'kubernetes.io/basic-auth' } } };
    const desired = buildDesiredSecret({ name: 'db', namespace: 'ns', spec }, fetched);
    expect(desired).toMatchObject({ name: 'db', namespace: 'ns', type: 'kubernetes.io/basic-auth' });
    expect(desired.data.user).toBe(Buffer.from('app').toString('base64'));
    expect(desired.labels['lockstep.dev/managed']).toBe('true');
    const h1 = computeDataHash(key, desired);
    expect(computeDataHash(key, { ...desired })).toBe(h1);
    expect(computeDataHash(key, { ...desired, data: { ...desired.data, user: 'eA==' } })).not.toBe(h1);
    expect(computeDataHash(enc('other-key'), desired)).not.toBe(h1);
    expect(h1).not.toContain('s3cr3t');
  });
});
