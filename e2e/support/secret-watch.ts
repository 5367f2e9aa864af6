// Watches every Secret event in a namespace for the length of a test (kubectl --watch), so a
// deletion or an empty write between two polls is caught too.
import { spawn } from 'node:child_process';

export interface SecretEvent {
  type: string;
  name: string;
  /** The Secret's data as the event carried it (base64 values). */
  data: Record<string, string>;
}

export interface SecretWatch {
  readonly events: SecretEvent[];
  /** Deletions, and writes that left the Secret without data, of the named Secret (all if omitted). */
  harm(name?: string): SecretEvent[];
  stop(): void;
}

export function watchSecrets(kubeconfigPath: string, namespace: string): SecretWatch {
  const events: SecretEvent[] = [];
  const child = spawn('kubectl', ['--kubeconfig', kubeconfigPath, 'get', 'secrets', '-n', namespace, '--watch', '--output-watch-events',
    '-o', 'jsonpath={.type} {.object.metadata.name} {.object.data}{"\\n"}'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let buffer = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const [type = '', name = '', ...rest] = buffer.slice(0, i).split(' ');
      buffer = buffer.slice(i + 1);
      const data = rest.join(' ');
      events.push({ type, name, data: data ? (JSON.parse(data) as Record<string, string>) : {} });
    }
  });
  return {
    events,
    harm: (name) => events.filter((e) => (name === undefined || e.name === name) && (e.type === 'DELETED' || Object.keys(e.data).length === 0)),
    stop: () => child.kill(),
  };
}
