import { pino, type Logger, type DestinationStream } from 'pino';
import type { SecretScrubber } from './secret-scrubber.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  scrubber: SecretScrubber;
  /** Defaults to stdout. */
  destination?: DestinationStream;
}

/** Paths that may hold secret material in anything we log; redacted by name as a first line of defence. */
const REDACT_PATHS = [
  'data', '*.data', 'stringData', '*.stringData', 'value', '*.value', 'values', '*.values',
  'token', '*.token', 'password', '*.password', 'secretAccessKey', '*.secretAccessKey',
  'headers.authorization', '*.headers.authorization',
];

/** A JSON logger that redacts known secret fields and scrubs every fetched value from each line. */
export function buildLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { app: 'lockstep' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: { streamWrite: (line: string) => opts.scrubber.scrub(line) },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
