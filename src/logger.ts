import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** JSON logs, on stdout unless told otherwise; credentials are redacted wherever they might appear. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'client_secret', '*.client_secret', 'password', '*.password'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
