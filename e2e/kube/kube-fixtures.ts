// Shared helpers for the src/kube e2e tests: a client that counts its requests, a log that
// records, polling, and kubeconfig rewriting for a TCP proxy.
import { readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createKubeClient, type KubeClientHandle, type KubeClientOptions } from '../../src/kube/kube-client.js';
import type { InformerLog } from '../../src/kube/resilient-informer.js';

export interface CountingClient {
  kube: KubeClientHandle;
  /** `verb resource code` of every request made so far. */
  requests: string[];
}

export function countingClient(kubeconfigPath: string, extra: Partial<KubeClientOptions> = {}): CountingClient {
  const requests: string[] = [];
  const kube = createKubeClient({
    kubeconfigPath, fieldManager: 'lockstep', userAgent: 'lockstep-e2e', reportingInstance: 'e2e',
    metrics: { onRequest: (verb, resource, code) => requests.push(`${verb} ${resource} ${code}`) },
    ...extra,
  });
  return { kube, requests };
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

export function recordingLog(echo = false): { log: InformerLog; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
    if (echo) console.log(level, msg, JSON.stringify(obj, (k, v: unknown) => (k === 'err' ? String(v) : v)));
  };
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Writes a copy of a kubeconfig whose server points at 127.0.0.1:port (for a proxy in between). */
export async function kubeconfigVia(kubeconfigPath: string, port: number, outPath: string): Promise<string> {
  const text = await readFile(kubeconfigPath, 'utf8');
  const rewritten = text.replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`);
  if (rewritten === text) throw new Error('kubeconfig server is not https://127.0.0.1:PORT');
  await writeFile(outPath, rewritten, { mode: 0o600 });
  return outPath;
}

/** host:port of the kubeconfig's server. */
export async function serverPort(kubeconfigPath: string): Promise<number> {
  const match = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(await readFile(kubeconfigPath, 'utf8'));
  if (!match?.[1]) throw new Error('kubeconfig server is not https://127.0.0.1:PORT');
  return Number(match[1]);
}
