/**
 * decodingStrategy and conversionStrategy, as External Secrets Operator defines them, so migrated
 * manifests sync the same bytes under the same keys. Pure.
 */
import type { ConversionStrategy, DecodingStrategy } from '../../api/external-secret.js';
import { InvalidRefError } from '../../providers/provider-errors.js';

const STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;
const latin1 = new TextDecoder('latin1');

/** Base64 with padding, strict as Go's encoding/base64 StdEncoding / URLEncoding: undefined when not valid. */
function strictDecode(value: Uint8Array, alphabet: 'base64' | 'base64url'): Uint8Array | undefined {
  const text = latin1.decode(value);
  if (!(alphabet === 'base64' ? STD : URL).test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, alphabet));
}

/** Decodes one value; `what` names it in the error (a remote key, never the value). */
export function decodeValue(value: Uint8Array, strategy: DecodingStrategy | undefined, what: string): Uint8Array {
  switch (strategy ?? 'None') {
    case 'None':
      return value;
    case 'Auto':
      return strictDecode(value, 'base64') ?? strictDecode(value, 'base64url') ?? value;
    case 'Base64':
    case 'Base64URL': {
      const decoded = strictDecode(value, strategy === 'Base64' ? 'base64' : 'base64url');
      if (!decoded) throw new InvalidRefError(`${what}: decodingStrategy ${strategy}, and the value is not valid ${strategy === 'Base64' ? 'base64' : 'base64url'} (with padding)`);
      return decoded;
    }
    default:
      return value;
  }
}

export function decodeMap(data: Map<string, Uint8Array>, strategy: DecodingStrategy | undefined, what: string): Map<string, Uint8Array> {
  if ((strategy ?? 'None') === 'None') return data;
  return new Map([...data].map(([k, v]) => [k, decodeValue(v, strategy, `${what} key '${k}'`)]));
}

/** ESO's key conversion: characters other than letters, digits, "-", "." and "_" become "_" (Default) or "_U%04x_" (Unicode). */
export function convertKey(key: string, strategy: ConversionStrategy): string {
  return [...key]
    .map((c) => {
      if (/^[\p{L}\p{N}._-]$/u.test(c)) return c;
      return strategy === 'Unicode' ? `_U${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}_` : '_';
    })
    .join('');
}

export function convertKeys(data: Map<string, Uint8Array>, strategy: ConversionStrategy | undefined): Map<string, Uint8Array> {
  if (!strategy) return data;
  return new Map([...data].map(([k, v]) => [convertKey(k, strategy), v]));
}
