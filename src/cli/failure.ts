/**
 * One line saying what went wrong and what to do, for the failures an operator meets at start
 * (a port taken, a database that cannot be reached or refuses the credentials); undefined for
 * anything else, which is printed with its stack.
 */
export function explainFailure(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & { code?: string; syscall?: string; address?: string; port?: number; hostname?: string };
  if (e.syscall === 'listen') {
    const where = `${e.address ?? 'the address'}:${e.port ?? '?'}`;
    if (e.code === 'EADDRINUSE') return `${where} is already in use: stop the program using it, or set PORT to another port`;
    if (e.code === 'EACCES') return `not allowed to listen on ${where} (ports below 1024 need privileges): set PORT to another port`;
    if (e.code === 'EADDRNOTAVAIL') return `HOST ${e.address} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0`;
  }
  if (e.syscall === 'connect' && e.code === 'ECONNREFUSED') {
    return `cannot reach the database at ${e.address}:${e.port} (connection refused): is PostgreSQL running there, and is DATABASE_URL right?`;
  }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `unknown database host "${e.hostname}": check the host name in DATABASE_URL`;
  if (e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH' || e.message === 'timeout exceeded when trying to connect' || e.message === 'Connection terminated due to connection timeout') {
    return 'the database did not answer in time: check that DATABASE_URL points at a reachable PostgreSQL server';
  }
  // PostgreSQL's own refusals: bad password or user, no such database, not allowed to connect.
  if (e.code === '28P01' || e.code === '28000') return `the database refused the credentials (${e.message}): check the user and password in DATABASE_URL`;
  if (e.code === '3D000') return `${e.message}: create it, or fix the database name in DATABASE_URL`;
  if (e.code === '42501') return `${e.message}: the database user in DATABASE_URL lacks a privilege Relance needs (it creates its tables)`;
  return undefined;
}
