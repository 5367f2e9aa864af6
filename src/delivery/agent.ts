/**
 * `lockstep agent`: runs in an app's pod, next to the app, and writes the files of the
 * ExternalSecrets the pod injects (delivery Files) into the pod's in-memory volume.
 *
 * It holds no provider credentials. It presents its projected ServiceAccount token (the agent's
 * own audience) to the operator, which checks it with a TokenReview and answers only for
 * ExternalSecrets that list the pod's ServiceAccount as a consumer.
 *   --mode once    fill the files and exit (the init container): retries with backoff until the
 *                  operator answers, so the app starts once the operator is back
 *   --mode watch   (the sidecar) long-polls the operator and rewrites the files when their content
 *                  changes; on any failure the files already written stay as they are
 * Node builtins only, so the sidecar stays small. Never logs a value.
 */
import { readFile } from 'node:fs/promises';
import { request, Agent } from 'node:https';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeAtomically, type FileSet } from './atomic-writer.js';

export const AGENT_HELP = `usage: lockstep agent --server URL --secrets NAME[,NAME...] --dir DIR --token-file PATH [flags]

  --mode once|watch       once: fill the files and exit (init container); watch: keep them fresh (sidecar)
  --server URL            the operator (https://...); its CA is read from $LOCKSTEP_CA (PEM)
  --secrets NAMES         ExternalSecrets (delivery Files) of this pod's namespace
  --dir DIR               where to write (one directory per ExternalSecret, swapped atomically)
  --token-file PATH       the projected ServiceAccount token to present
  --file-mode MODE        octal mode of the files (default 0444)
  --poll-timeout DURATION how long one long poll may wait (seconds, default 55)
`;

/** What the operator answers (GET /v1/files). Values are base64. */
export interface FilesResponse {
  version: string;
  secrets: Record<string, Record<string, string>>;
}

interface AgentOptions {
  mode: 'once' | 'watch';
  server: URL;
  secrets: string[];
  dir: string;
  tokenFile: string;
  fileMode: number;
  pollTimeoutS: number;
  ca: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const BACKOFF = { baseMs: 500, maxMs: 30_000 };

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
}

export function parseAgentOptions(args: string[], env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      mode: { type: 'string', default: 'watch' },
      server: { type: 'string' },
      secrets: { type: 'string' },
      dir: { type: 'string' },
      'token-file': { type: 'string' },
      'file-mode': { type: 'string', default: '0444' },
      'poll-timeout': { type: 'string', default: '55' },
    },
  });
  const missing = (['server', 'secrets', 'dir', 'token-file'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new Error(`missing flags: ${missing.map((m) => `--${m}`).join(', ')}`);
  if (values.mode !== 'once' && values.mode !== 'watch') throw new Error('--mode must be once or watch');
  const server = new URL(values.server ?? '');
  if (server.protocol !== 'https:') throw new Error('--server must be an https:// URL');
  if (!/^0?[0-7]{3}$/.test(values['file-mode'] ?? '')) throw new Error('--file-mode must be an octal mode such as 0440');
  const ca = env['LOCKSTEP_CA'];
  if (!ca?.includes('BEGIN CERTIFICATE')) throw new Error('$LOCKSTEP_CA must hold the PEM of the operator\'s CA');
  return {
    mode: values.mode,
    server,
    secrets: (values.secrets ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    dir: values.dir ?? '',
    tokenFile: values['token-file'] ?? '',
    fileMode: parseInt(values['file-mode'] ?? '0444', 8),
    pollTimeoutS: Math.max(1, Math.min(300, Number(values['poll-timeout']) || 55)),
    ca,
  };
}

export async function runAgent(opts: AgentOptions, signal: AbortSignal): Promise<number> {
  const agent = new Agent({ ca: opts.ca, keepAlive: true, maxSockets: 1 });
  let version = '';
  let failures = 0;
  log('info', 'agent started', { mode: opts.mode, secrets: opts.secrets, server: opts.server.origin });
  while (!signal.aborted) {
    try {
      const wait = opts.mode === 'watch' && version !== '';
      const answer = await fetchFiles(opts, agent, version, wait, signal);
      if (answer && answer.version !== version) {
        await writeAtomically(opts.dir, decode(answer), opts.fileMode);
        log('info', version ? 'files updated' : 'files written', { version: answer.version, secrets: Object.keys(answer.secrets) });
        version = answer.version;
      }
      if (failures > 0) log('info', 'the operator answers again', { after: failures });
      failures = 0;
      if (opts.mode === 'once') return 0;
    } catch (err) {
      if (signal.aborted) break;
      failures++;
      const delay = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** Math.min(failures - 1, 10)) * (0.8 + Math.random() * 0.4);
      const refused = err instanceof HttpError && (err.status === 403 || err.status === 404 || err.status === 400);
      log(refused ? 'error' : 'warn', refused ? 'the operator refuses this pod the files; keeping the files as they are' : 'cannot reach the operator; retrying',
        { error: (err as Error).message, attempt: failures, retryInMs: Math.round(delay), keptVersion: version || undefined });
      await sleep(delay, undefined, { signal }).catch(() => undefined);
    }
  }
  agent.destroy();
  return 0;
}

function decode(answer: FilesResponse): FileSet {
  const files: FileSet = {};
  for (const [name, entries] of Object.entries(answer.secrets)) {
    files[name] = Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  }
  return files;
}

/** One GET; with `wait`, the operator holds it until the content differs from `known` (or answers 304). */
async function fetchFiles(opts: AgentOptions, agent: Agent, known: string, wait: boolean, signal: AbortSignal): Promise<FilesResponse | undefined> {
  const token = (await readFile(opts.tokenFile, 'utf8')).trim();
  const url = new URL('/v1/files', opts.server);
  url.searchParams.set('secrets', opts.secrets.join(','));
  if (known) url.searchParams.set('known', known);
  if (wait) url.searchParams.set('wait', String(opts.pollTimeoutS));
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent,
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.any([signal, AbortSignal.timeout((opts.pollTimeoutS + 15) * 1000)]),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 304) return resolve(undefined);
        if (res.statusCode !== 200) return reject(new HttpError(res.statusCode ?? 0, `HTTP ${res.statusCode}: ${messageOf(body)}`));
        try {
          resolve(JSON.parse(body) as FilesResponse);
        } catch {
          reject(new Error('the operator sent an answer that is not JSON'));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function messageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message.slice(0, 500) : body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}

/** Entry point of `lockstep agent` (and of the image's /app/agent.mjs). */
export async function runAgentCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(AGENT_HELP);
    return 0;
  }
  let opts: AgentOptions;
  try {
    opts = parseAgentOptions(args);
  } catch (err) {
    process.stderr.write(`lockstep agent: ${(err as Error).message}\n${AGENT_HELP}`);
    return 2;
  }
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  return runAgent(opts, stop.signal);
}
