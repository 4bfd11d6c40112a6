import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** JSON logs, on stdout unless told otherwise; credentials are redacted wherever they might appear. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'client_secret', '*.client_secret', 'password', '*.password'],
      censor: '[redacted]',
    },
    serializers: { err: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * pino's error serializer, minus what PostgreSQL quotes of the data an error is about: `detail`
 * holds the failing row or key ("Failing row contains (…, jane@example.com, …)", "Key
 * (email)=(…)"), `where` and `internalQuery` the statement's context, and the messages of data
 * exceptions (SQLSTATE class 22) quote the value they refused. Code, constraint, table and column
 * say what failed without saying whose data it was.
 */
function serializeError(error: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.err(error as Error);
  if (typeof serialized === 'object' && serialized !== null) withoutQuotedData(serialized as Record<string, unknown>);
  return serialized;
}

function withoutQuotedData(error: Record<string, unknown>): void {
  const code = error.code;
  if (typeof code === 'string' && SQLSTATE.test(code) && 'severity' in error) {
    delete error.detail;
    delete error.where;
    delete error.internalQuery;
    if (code.startsWith('22') && typeof error.message === 'string') {
      const quoting = error.message;
      const withheld = `data exception ${code} (the message quotes the value, so it is not logged)`;
      error.message = withheld;
      if (typeof error.stack === 'string') error.stack = error.stack.replace(quoting, withheld);
    }
  }
  const nested = error.aggregateErrors;
  if (Array.isArray(nested)) for (const inner of nested) if (typeof inner === 'object' && inner !== null) withoutQuotedData(inner);
}
