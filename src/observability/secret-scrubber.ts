/**
 * Remembers every secret value Lockstep has fetched and removes them (raw, base64 and JSON-escaped)
 * from any text before it leaves the process. Field-name redaction alone is not enough: a value can
 * travel inside an error message from an SDK or the API server.
 */
const MIN_LENGTH = 4; // shorter strings are too common in ordinary text to scrub safely
export const REDACTED = '[REDACTED]';

export class SecretScrubber {
  private readonly values = new Set<string>();

  /** Register a fetched value (and its encodings). Cheap to call repeatedly with the same value. */
  add(value: string | Uint8Array): void {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    for (const form of encodings(text)) {
      if (form.length >= MIN_LENGTH) this.values.add(form);
    }
  }

  get size(): number {
    return this.values.size;
  }

  scrub(text: string): string {
    if (this.values.size === 0 || text.length < MIN_LENGTH) return text;
    let out = text;
    for (const value of this.values) {
      if (out.includes(value)) out = out.replaceAll(value, REDACTED);
    }
    return out;
  }
}

function encodings(text: string): string[] {
  const base64 = Buffer.from(text, 'utf8').toString('base64');
  const forms = [text, base64, base64.replace(/=+$/, ''), JSON.stringify(text).slice(1, -1)];
  // Each line of a multi-line value (certificates, JSON documents) may be logged alone.
  for (const line of text.split('\n')) if (line.trim().length >= 8) forms.push(line.trim());
  return forms;
}
