import { type Level, type Logger, pino } from "pino";

/**
 * Fields no log line may carry. The registry never logs headers, bodies or
 * provider options in the first place; this is the second line of defence.
 */
const redactedPaths = [
  "authorization",
  "apiKey",
  "api_key",
  "headers.authorization",
  'headers["g4f-api-key"]',
  'headers["x-api-key"]',
  "headers.cookie",
  "*.authorization",
  "*.apiKey",
  "*.api_key",
  "*.cookie",
];

export type LogLevel = Level | "silent";

/**
 * The registry's structured logger (pino, JSON lines). `destination` 1 is stdout
 * (the server), 2 is stderr (one-shot commands, whose stdout is the answer).
 */
export function createLogger(level: LogLevel, destination: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      base: { service: "g4f-ts-registry" },
      redact: { paths: redactedPaths, censor: "[redacted]" },
    },
    pino.destination({ fd: destination, sync: false }),
  );
}

/** A logger that writes nothing (the default of an embedded registry). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
