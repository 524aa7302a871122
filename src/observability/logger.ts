import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "residency" },
      // API keys must never reach a log line, wherever they hide.
      redact: ["req.headers.authorization", "authorization", "key", "secret"],
    },
    destination,
  );
}
