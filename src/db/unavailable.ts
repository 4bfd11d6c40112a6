/**
 * Why the database could not serve a request in time, or undefined for any other error:
 * - `busy`: no pooled connection came free in time;
 * - `timeout`: PostgreSQL cancelled the statement (statement_timeout) or a lock wait;
 * - `down`: the server cannot be reached, is shutting down or is out of resources.
 * Each is a 503 with Retry-After for the client, never a 500: the request may well succeed later.
 */
export type Unavailable = 'busy' | 'timeout' | 'down';

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// SQLSTATE classes 08 (connection exception) and 53 (insufficient resources), and the shutdown codes.
const DOWN_CODES = new Set(['57P01', '57P02', '57P03']);
const TIMEOUT_CODES = new Set(['57014', '55P03']);
const DOWN_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Connection terminated',
  // A pooled client whose connection broke between two queries of a transaction.
  'Client has encountered a connection error and is not queryable',
];

export function databaseUnavailable(error: unknown): Unavailable | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (error.message === 'timeout exceeded when trying to connect') return 'busy';
  if (typeof code === 'string') {
    // PostgreSQL's own errors carry a severity; socket errors a syscall. A code alone proves nothing.
    const fromServer = 'severity' in error;
    if (fromServer && TIMEOUT_CODES.has(code)) return 'timeout';
    if (fromServer && (DOWN_CODES.has(code) || /^(08|53)[0-9A-Z]{3}$/.test(code))) return 'down';
    if ('syscall' in error && NETWORK.has(code)) return 'down';
  }
  if (DOWN_MESSAGES.includes(error.message)) return 'down';
  return undefined;
}
