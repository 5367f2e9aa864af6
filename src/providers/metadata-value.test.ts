import { InvalidRefError } from './provider-errors.js';
import { buildMetadataWhole, expandMetadata, selectMetadata } from './metadata-value.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const tags = { 'team': 'a', 'app.kubernetes.io/name': 'shop', config: '{"size":"s"}' };

describe('metadataPolicy Fetch values', () => {
  it('reads the whole metadata as JSON with sorted keys, or one entry by its exact key (dots and slashes included)', () => {
    expect(dec(selectMetadata(tags, { key: 'k' }))).toBe('{"app.kubernetes.io/name":"shop","config":"{\\"size\\":\\"s\\"}","team":"a"}');
    expect(dec(selectMetadata(tags, { key: 'k', property: 'app.kubernetes.io/name' }))).toBe('shop');
    expect(dec(selectMetadata({}, { key: 'k' }))).toBe('{}');
  });

  it('names the missing entry and the keys there are, never a value', () => {
    const err = (() => {
      try {
        selectMetadata(tags, { key: 'db', property: 'owner' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidRefError);
    expect((err as Error).message).toBe("metadata 'owner' does not exist on remote key 'db' (its metadata keys are 'app.kubernetes.io/name', 'config', 'team')");
    expect(() => selectMetadata({}, { key: 'db', property: 'owner' })).toThrow("metadata 'owner' does not exist on remote key 'db' (it has no metadata)");
  });

  it('expands into one key per entry, or the JSON object one entry holds', () => {
    expect(Object.fromEntries([...expandMetadata(tags, { key: 'k' })].map(([k, v]) => [k, dec(v)]))).toEqual(tags);
    expect(Object.fromEntries([...expandMetadata(tags, { key: 'k', property: 'config' })].map(([k, v]) => [k, dec(v)]))).toEqual({ size: 's' });
    expect(() => expandMetadata(tags, { key: 'k', property: 'team' })).toThrow(InvalidRefError);
  });

  it('selects from metadata read whole as getSecret and getSecretMap do', () => {
    const whole = buildMetadataWhole(tags);
    for (const property of [undefined, 'team', 'app.kubernetes.io/name']) {
      expect(whole.value({ key: 'k', property })).toEqual(selectMetadata(tags, { key: 'k', property }));
    }
    expect(whole.map({ key: 'k', property: 'config' })).toEqual(expandMetadata(tags, { key: 'k', property: 'config' }));
    expect(() => whole.value({ key: 'k', property: 'owner' })).toThrow("metadata 'owner' does not exist on remote key 'k'");
  });
});
