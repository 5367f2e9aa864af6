import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('aborts the signal with a TimeoutError once the deadline passes', async () => {
    const err = await withDeadline(20, (signal) => new Promise((_, fail) => signal.addEventListener('abort', () => fail(signal.reason)))).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
  });

  it('disarms its timer when the call settles first', async () => {
    let seen: AbortSignal | undefined;
    await expect(withDeadline(50, async (signal) => ((seen = signal), 'value'))).resolves.toBe('value');
    await new Promise((r) => setTimeout(r, 80));
    expect(seen?.aborted).toBe(false);
    await expect(withDeadline(50, () => Promise.reject(new Error('no such key')))).rejects.toThrow('no such key');
  });
});
