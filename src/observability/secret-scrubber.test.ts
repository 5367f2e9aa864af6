import { Writable } from 'node:stream';
import { SecretScrubber, REDACTED } from './secret-scrubber.js';
import { buildLogger } from './logger.js';

describe('SecretScrubber', () => {
  it('removes raw, base64 and JSON-escaped forms of registered values', () => {
    const s = new SecretScrubber();
    s.add('p@ss"word-42');
    const b64 = Buffer.from('p@ss"word-42').toString('base64');
    expect(s.scrub(`a p@ss"word-42 b ${b64} c p@ss\\"word-42`)).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED}`);
  });

  it('leaves text without secrets unchanged and ignores very short values', () => {
    const s = new SecretScrubber();
    s.add('ab');
    expect(s.scrub('ab cd')).toBe('ab cd');
  });

  it('is applied to every log line, including error messages', async () => {
    const scrubber = new SecretScrubber();
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const log = buildLogger({ scrubber, destination });
    scrubber.add('hunter2-very-secret');
    log.error({ err: new Error('bad value hunter2-very-secret') }, 'failed with hunter2-very-secret');
    log.info({ data: { k: 'x' } }, 'data field');
    await new Promise((r) => setImmediate(r));
    const all = lines.join('');
    expect(all).not.toContain('hunter2-very-secret');
    expect(all).toContain(REDACTED);
    expect(all).not.toContain('"k":"x"');
  });
});
