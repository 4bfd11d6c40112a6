import autocannon from 'autocannon';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH';

/** One request of a target's list; each connection cycles through the list in order. */
export interface LoadRequest {
  method: Method;
  path: string;
  /** JSON body, serialized once before the run. */
  body?: unknown;
}

export interface LoadTarget {
  /** http://host:port */
  origin: string;
  headers: Record<string, string>;
  requests: LoadRequest[];
  /** Replace `[<id>]` in each request with a fresh unique id. */
  uniqueIds: boolean;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  warmupSeconds: number;
}

export interface Measurement {
  requests_per_second: number;
  /** Latencies in milliseconds. */
  p50_ms: number;
  p99_ms: number;
  requests: number;
  /** Responses that were not 2xx, connection errors and timeouts: each should be 0. */
  non_2xx: number;
  errors: number;
}

/**
 * Drives `target` with autocannon after a warm-up (which lets V8 optimise the hot paths and
 * PostgreSQL fill its caches). autocannon runs in a worker thread (`workers: 1`): the load
 * generator has its own event loop, so it never queues behind the server's callbacks on the
 * main thread, though on a 2-core machine both still share the CPUs with PostgreSQL.
 */
export async function measure(target: LoadTarget, options: LoadOptions): Promise<Measurement> {
  if (options.warmupSeconds > 0) await run(target, options.connections, options.warmupSeconds);
  const result = await run(target, options.connections, options.seconds);
  return {
    requests_per_second: Math.round(result.requests.total / (result.duration || options.seconds)),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    requests: result.requests.total,
    non_2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function run(target: LoadTarget, connections: number, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: target.origin,
        connections,
        duration: seconds,
        workers: 1,
        headers: target.headers,
        idReplacement: target.uniqueIds,
        requests: target.requests.map((r) => ({
          method: r.method,
          path: r.path,
          ...(r.body === undefined ? {} : { body: JSON.stringify(r.body), headers: { 'content-type': 'application/json' } }),
        })),
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}
