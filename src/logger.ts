import { type Logger, pino } from "pino";

/**
 * The one logger. Codes and full numbers are never passed to it (the core logs masked
 * numbers only); the redaction list is a second line of defence for anything that
 * slips into a log object by those names.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: "voicecode" },
    redact: {
      paths: [
        "code",
        "*.code",
        "phoneNumber",
        "*.phoneNumber",
        "phone_number",
        "*.phone_number",
        "req.headers.authorization",
        "token",
        "*.token",
      ],
      censor: "[redacted]",
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination as pino.DestinationStream);
}
