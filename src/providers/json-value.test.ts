import { buildJsonWhole, encodeText } from './json-value.js';
import { InvalidRefError } from './provider-errors.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const decMap = (m: Map<string, Uint8Array>) => Object.fromEntries([...m].map(([k, v]) => [k, dec(v)]));

describe('a JSON value read whole', () => {
  const value = encodeText('{"user":"app","db":{"password":"p","port":5432},"a.b":"dotted","list":[1,"x"],"nil":null}');
  const whole = buildJsonWhole(value);

  it('is the value itself without a property (the same bytes), or a field: exact key first, then dots into nested objects', () => {
    expect(whole.value({ key: 'k' })).toBe(value);
    const props = ['user', 'db', 'db.password', 'db.port', 'a.b', 'list', 'nil'];
    expect(props.map((property) => dec(whole.value({ key: 'k', property })))).toEqual(['app', '{"password":"p","port":5432}', 'p', '5432', 'dotted', '[1,"x"]', 'null']);
  });

  it('names the missing property or the non-JSON key, never a value', () => {
    expect(() => whole.value({ key: 'k', property: 'db.user' })).toThrow(new InvalidRefError("property 'db.user' does not exist in remote key 'k'"));
    const binary = buildJsonWhole(new Uint8Array([0, 255, 1]));
    expect(binary.value({ key: 'bin' })).toEqual(new Uint8Array([0, 255, 1]));
    expect(() => binary.value({ key: 'bin', property: 'x' })).toThrow(new InvalidRefError("remote key 'bin' is not a JSON object, so it has no properties"));
    expect(() => binary.map({ key: 'bin' })).toThrow(InvalidRefError);
  });

  it('expands the object at the property, or the whole value without one', () => {
    expect(decMap(whole.map({ key: 'k', property: 'db' }))).toEqual({ password: 'p', port: '5432' });
    expect(Object.keys(decMap(whole.map({ key: 'k' })))).toEqual(['user', 'db', 'a.b', 'list', 'nil']);
    expect(() => whole.map({ key: 'k', property: 'user' })).toThrow(InvalidRefError);
  });
});
