/**
 * The load generator, in a process of its own (forked once by load.ts, then driven by messages):
 * autocannon never shares an event loop or a CPU time slice accounting with a server under test.
 * Each message is one autocannon run; the answer holds its counts and exact latency percentiles
 * (autocannon's own histogram keeps whole milliseconds, too coarse for 1–2 ms requests).
 */
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import type { LoadJob, LoadResult } from './load.js';

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const MARK = '[<id>]';

/**
 * One request builder shared by every connection: the job's requests are handed out in turn
 * across all connections (so concurrent requests read or write different rows, never the same
 * row in lockstep), and `[<id>]` becomes a fresh id in each request that has it.
 */
function requestSource(job: LoadJob) {
  const prefix = randomBytes(6).toString('hex');
  let next = 0;
  const fresh = (text: string, id: string) => (text.includes(MARK) ? text.replaceAll(MARK, id) : text);
  return (request: autocannon.Request): autocannon.Request => {
    const n = next++;
    const r = job.requests[n % job.requests.length]!;
    if (!job.idReplacement) return { ...request, method: r.method, path: r.path, body: r.body, headers: { ...request.headers, ...r.headers } };
    const id = `${prefix}-${n}`;
    const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([name, value]) => [name, fresh(value, id)]));
    return { ...request, method: r.method, path: fresh(r.path, id), body: r.body === undefined ? undefined : fresh(r.body, id), headers: { ...request.headers, ...headers } };
  };
}

function run(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    // Timed from autocannon's 'start' event: its own duration includes setting up the connections.
    let startedAt = performance.now();
    const instance = autocannon(
      {
        url: job.origin,
        connections: job.connections,
        duration: job.seconds,
        // autocannon checks for the end of the run at each sample: every 100 ms, not every second.
        sampleInt: 100,
        headers: job.headers,
        // Relance asks a client to reconnect after MAX_REQUESTS_PER_SOCKET (default 100) requests;
        // every target gets the same reconnects, made by the client before it would be told.
        ...(job.reconnectEvery > 0 ? { reconnectRate: job.reconnectEvery } : {}),
        requests: [{ setupRequest: requestSource(job) }],
      },
      (error, result) => {
        if (error) return reject(error);
        const sorted = Float64Array.from(latencies).sort();
        resolve({
          requests: result.requests.total,
          seconds: (performance.now() - startedAt) / 1000,
          ok_2xx: result['2xx'],
          non_2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          status_codes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0])),
          p50_ms: percentile(sorted, 50),
          p90_ms: percentile(sorted, 90),
          p99_ms: percentile(sorted, 99),
          mean_ms: sorted.length ? latencies.reduce((a, b) => a + b, 0) / sorted.length : 0,
        });
      },
    );
    instance.once('start', () => {
      startedAt = performance.now();
    });
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    });
  });
}

process.on('message', (message: { id: number; job: LoadJob }) => {
  run(message.job).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: String((error as Error)?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
