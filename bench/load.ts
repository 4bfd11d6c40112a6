import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type Method = 'GET' | 'POST';

/** One request of a run's list; each connection cycles through the list in order. */
export interface LoadRequest {
  method: Method;
  path: string;
  /** The body as sent (JSON text). */
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadJob {
  /** http://host:port */
  origin: string;
  connections: number;
  seconds: number;
  /** Sent with every request. */
  headers: Record<string, string>;
  requests: LoadRequest[];
  /** Replace `[<id>]` anywhere in a request (headers included) with a fresh unique id. */
  idReplacement: boolean;
  /** Reconnect each connection after this many requests (0: never). */
  reconnectEvery: number;
}

export interface LoadResult {
  /** Completed responses. */
  requests: number;
  /** Wall-clock duration of the run. */
  seconds: number;
  ok_2xx: number;
  /** Responses that were not 2xx, connection errors and timeouts: each must be 0. */
  non_2xx: number;
  errors: number;
  timeouts: number;
  status_codes: Record<string, number>;
  /** Exact percentiles of every response's latency, in ms. */
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
}

const CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));

/** The load generator's process (load-child.ts), driven one run at a time. */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private next = 0;
  private readonly waiting = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void }>();

  constructor() {
    this.child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: { id: number; result?: LoadResult; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(`load generator: ${message.error}`));
      else waiter?.resolve(message.result!);
    });
    this.child.on('exit', (code, signal) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`the load generator exited (${signal ?? code})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  run(job: LoadJob): Promise<LoadResult> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, job });
    });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }
}
