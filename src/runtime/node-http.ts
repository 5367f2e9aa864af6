/**
 * node:http and node:https, loaded as CommonJS modules. An ES `import` of a builtin makes node copy
 * every export into the module's namespace, reading lazy getters too: node:http's `WebSocket`,
 * `CloseEvent` and `MessageEvent` load node's own bundled undici, http2, workers and web streams.
 * That cost the operator ~12 MB of peak RSS at start (Node 24), for nothing it uses; `require`
 * reads only what is called. Import `http`, `https` and `tls` from here, and types from 'node:http'
 * (`import type` loads nothing).
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type * as Tls from 'node:tls';

const load = createRequire(import.meta.url);

export const http = load('node:http') as typeof Http;
export const https = load('node:https') as typeof Https;
export const tls = load('node:tls') as typeof Tls;

/**
 * https agent options with their TLS material (ca, cert, key, pfx, passphrase, crl) as one secure
 * context, made once. Given as they are, node's https agent writes each of them into its pool's name
 * on every request, three times (a Buffer decoded each time; a CA list with the system's roots
 * joined into ~200 KB of text each time), and builds a TLS context per connection. The context
 * trusts what the options would have: the given CAs instead of node's, or node's without any.
 */
export function withSecureContext(opts: Https.AgentOptions = {}): Https.AgentOptions {
  const { ca, cert, key, pfx, passphrase, crl, ...rest } = opts;
  if (ca === undefined && cert === undefined && key === undefined && pfx === undefined) return opts;
  return { ...rest, secureContext: tls.createSecureContext({ ca, cert, key, pfx, passphrase, crl }) };
}
