import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SecretScrubber, REDACTED } from './secret-scrubber.js';
import { buildLogger } from './logger.js';

describe('SecretScrubber', () => {
  it('removes raw, base64 and JSON-escaped forms of registered values', () => {
    const s = new SecretScrubber();
    s.add('p@ss"word-42');
    const b64 = Buffer.from('p@ss"word-42').toString('base64');
    expect(s.scrub(`a p@ss"word-42 b ${b64} c p@ss\\"word-42`)).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED}`);
    s.add('padded-value-1'); // base64 with padding: held unpadded, redacted with its padding
    const padded = Buffer.from('padded-value-1').toString('base64');
    expect(padded.endsWith('=')).toBe(true);
    expect(s.scrub(`x ${padded} y`)).toBe(`x ${REDACTED} y`);
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

  it('forgets what only a gone owner held, keeps what another owner still holds', async () => {
    const s = new SecretScrubber();
    await s.withOwner('ExternalSecret/a/one', async () => {
      await Promise.resolve(); // the owner follows the async context
      s.add('only-in-one-value');
      s.add('shared-value-1234');
    });
    s.withOwner('ExternalSecret/a/two', () => s.add('shared-value-1234'));
    s.forOwner('store/x').add('store-credential-5678');
    expect(s.scrub('only-in-one-value shared-value-1234 store-credential-5678')).toBe(`${REDACTED} ${REDACTED} ${REDACTED}`);
    s.forget('ExternalSecret/a/one');
    expect(s.scrub('shared-value-1234 store-credential-5678')).toBe(`${REDACTED} ${REDACTED}`);
    const before = s.size;
    s.forget('ExternalSecret/a/two');
    s.forget('store/x');
    expect(s.size).toBe(0);
    expect(before).toBeGreaterThan(0);
    for (let i = 0; i < 200; i++) s.add(`filler-value-${i}`); // forces a rebuild without the forgotten values
    expect(s.scrub('only-in-one-value shared-value-1234')).toBe('only-in-one-value shared-value-1234');
  });

  it('keeps at most the newest forms of one owner', () => {
    const s = new SecretScrubber({ perOwner: 8, unowned: 8 });
    for (let i = 0; i < 100; i++) s.add(`token-number-${i}`, 'store/x');
    expect(s.size).toBeLessThanOrEqual(8);
    expect(s.scrub('token-number-99')).toBe(REDACTED);
    const big = new SecretScrubber({ perOwner: 100 }); // past 32 forms an owner's list becomes a Set
    for (let i = 0; i < 500; i++) big.add(`long-lived-token-${i}`, 'store/y');
    big.add('long-lived-token-450', 'store/y'); // refreshed: now the newest
    for (let i = 500; i < 520; i++) big.add(`long-lived-token-${i}`, 'store/y');
    expect(big.size).toBeLessThanOrEqual(100);
    expect(big.scrub('long-lived-token-450 long-lived-token-519')).toBe(`${REDACTED} ${REDACTED}`);
    expect(big.scrub('long-lived-token-1 ')).toBe('long-lived-token-1 ');
  });

  it("keeps an owner's values of its last two reads and forgets what was rotated away before", () => {
    const s = new SecretScrubber();
    const read = (...values: string[]) =>
      s.withOwner('ExternalSecret/a/one', () => {
        for (const v of values) s.add(v);
        s.readDone();
      });
    s.forOwner('store/x').add('store-token-abcdef');
    read('first-password-1', 'stable-username');
    read('second-password-2', 'stable-username');
    expect(s.scrub('first-password-1 second-password-2')).toBe(`${REDACTED} ${REDACTED}`); // the previous read's value stays
    read('third-password-3', 'stable-username');
    expect(s.scrub('first-password-1')).toBe('first-password-1'); // rotated away two reads ago
    expect(s.scrub('second-password-2 third-password-3 stable-username store-token-abcdef')).toBe(`${REDACTED} ${REDACTED} ${REDACTED} ${REDACTED}`);
    const held = s.size;
    for (let i = 0; i < 50; i++) read(`rotating-password-${i}`, 'stable-username');
    expect(s.size).toBeLessThanOrEqual(held); // a long life of rotations does not pile up
    expect(s.scrub('rotating-password-48 rotating-password-49 stable-username')).toBe(`${REDACTED} ${REDACTED} ${REDACTED}`);
    expect(s.scrub('rotating-password-47')).toBe('rotating-password-47');
  });

  it('holds about 120 bytes per form, whatever the values', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // The tables' typed arrays live outside the V8 heap: count both.
    const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    gc();
    const before = used();
    const s = new SecretScrubber();
    for (let i = 0; i < 10_000; i++) s.withOwner(`ExternalSecret/ns/es-${i}`, () => { s.add(`pw-${i}-${'k'.repeat(i % 40)}`); s.add(`user-${i}`); s.readDone(); });
    gc();
    const perForm = (used() - before) / s.size;
    expect(s.size).toBe(40_000); // two values, each with its base64 form
    expect(perForm).toBeLessThan(180); // Maps of boxed doubles took 215 bytes
  });

  it('finds every value whatever overlaps, in one pass whose cost does not grow with the number of values', () => {
    const s = new SecretScrubber();
    s.add('abcdefgh');
    s.add('cdefghijkl');
    s.add('zzzz-tail');
    expect(s.scrub('xxabcdefghijklyy zzzz-tail.')).toBe(`xx${REDACTED}yy ${REDACTED}.`);
    const line = `request to https://vault.example.com/v1/secret/data/app failed: permission denied ${'x'.repeat(200)}`;
    const time = (n: number) => {
      const many = new SecretScrubber();
      for (let i = 0; i < n; i++) many.add(`value-${i}-${'q'.repeat(20)}`);
      many.scrub(line); // builds the automaton
      const started = process.hrtime.bigint();
      for (let i = 0; i < 2_000; i++) many.scrub(line);
      return Number(process.hrtime.bigint() - started);
    };
    const small = Math.min(time(10), time(10));
    const large = Math.min(time(20_000), time(20_000));
    expect(large).toBeLessThan(small * 5); // a loop over the values would be ~2,000 times slower
  });
});

