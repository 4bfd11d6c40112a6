/** The outcome of counting one request against a budget. */
export interface Hit {
  /** Whether the request fits in the budget; a refused request is not counted. */
  allowed: boolean;
  /** Requests counted in the current window, this one included when allowed. */
  count: number;
  /** When the current window ends, in unix seconds: windows are aligned on multiples of their length. */
  resetAt: number;
  /** The time the store counted by, in unix milliseconds (Redis's own clock, shared by every process). */
  nowMs: number;
}

/**
 * Fixed-window counters: one budget of `limit` requests per `key` in each window of
 * `windowSeconds`, aligned on the clock. A request past the budget is refused and not counted,
 * so a client hammering while refused does not eat into the next window, nor into the budget an
 * operator raises meanwhile; the refusal ends with the window, never later.
 */
export interface CounterStore {
  hit(key: string, limit: number, windowSeconds: number): Promise<Hit>;
  close(): Promise<void>;
}

/** The counters of one process: exact under concurrency, since each hit runs to completion on the event loop. */
export class MemoryCounterStore implements CounterStore {
  private readonly windows = new Map<string, { resetAt: number; count: number }>();
  private nextSweep = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  async hit(key: string, limit: number, windowSeconds: number): Promise<Hit> {
    return this.hitNow(key, limit, windowSeconds);
  }

  hitNow(key: string, limit: number, windowSeconds: number): Hit {
    const nowMs = this.clock();
    this.sweep(nowMs);
    const now = Math.floor(nowMs / 1000);
    const resetAt = now - (now % windowSeconds) + windowSeconds;
    let window = this.windows.get(key);
    if (!window || window.resetAt !== resetAt) {
      window = { resetAt, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count >= limit) return { allowed: false, count: window.count, resetAt, nowMs };
    window.count++;
    return { allowed: true, count: window.count, resetAt, nowMs };
  }

  async close(): Promise<void> {
    this.windows.clear();
  }

  /** Drops ended windows once a minute: memory holds only the keys seen in current windows. */
  private sweep(nowMs: number): void {
    if (nowMs < this.nextSweep) return;
    this.nextSweep = nowMs + 60_000;
    const now = nowMs / 1000;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
