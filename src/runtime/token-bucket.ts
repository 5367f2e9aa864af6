/**
 * A token bucket: `burst` tokens, refilled at `qps` per second; `take` waits for a token.
 * Written here because the npm token buckets we found are unmaintained or cannot be aborted,
 * and this is twenty lines on top of the injected clock.
 */
import type { Clock } from './clock.js';

export interface RateLimitSpec {
  qps: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Callers served in order: each waits for the previous one's token. */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly spec: RateLimitSpec, private readonly clock: Clock) {
    this.tokens = spec.burst;
    this.last = clock.now();
  }

  take(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(() => this.wait(signal));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async wait(signal?: AbortSignal): Promise<void> {
    this.refill();
    if (this.tokens < 1) {
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.spec.qps) * 1000), signal);
      this.refill();
    }
    this.tokens -= 1;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.spec.burst, this.tokens + ((now - this.last) / 1000) * this.spec.qps);
    this.last = now;
  }
}
