import { pino } from 'pino';
import type { Logger } from '../../observability/logger.js';

export interface MemoryLogger {
  readonly log: Logger;
  /** Every line written so far, parsed. */
  entries(): Record<string, unknown>[];
  /** Every line written so far, raw. */
  text(): string;
}

/** A debug-level pino logger that keeps its lines in memory, for assertions in tests. */
export function buildMemoryLogger(): MemoryLogger {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return {
    log,
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join(''),
  };
}
