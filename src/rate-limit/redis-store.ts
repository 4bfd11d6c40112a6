import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CounterStore, Hit, MemoryCounterStore } from './counter-store.js';

/*
 * Why not @fastify/rate-limit's Redis store: its windows start at each key's first request (not
 * on the clock, so X-RateLimit-Reset could not be the aligned window's end), its Reset header is
 * a number of seconds rather than a time, it counts refused requests (INCR first), and it knows
 * one budget per route where Relance needs two per client (reads, writes) decided after the token
 * is checked. What it would bring is this script.
 *
 * One key per budget, a hash {reset, count}: the window is computed from Redis's own clock, so
 * every process agrees on it whatever their clocks say, and the script touches only the key it
 * is given (as a Redis Cluster wants). It runs atomically: of N + 1 concurrent requests from any
 * number of processes, exactly one is the first refused. A refused request is not counted.
 * Needs Redis 5 or newer (TIME before a write in a script).
 */
const HIT = `
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1])
local resetAt = now - (now % window) + window
local nowMs = now * 1000 + math.floor(tonumber(time[2]) / 1000)
local stored = redis.call('HMGET', KEYS[1], 'reset', 'count')
local count = 0
if tonumber(stored[1]) == resetAt then count = tonumber(stored[2]) end
if count >= limit then return {0, count, resetAt, nowMs} end
count = count + 1
redis.call('HSET', KEYS[1], 'reset', resetAt, 'count', count)
redis.call('EXPIREAT', KEYS[1], resetAt + 1)
return {1, count, resetAt, nowMs}
`;

type Scripted = Redis & { relanceHit(key: string, windowSeconds: number, limit: number): Promise<[number, number, number, number]> };

/** After a failed command, Redis is left alone this long: a Redis that hangs costs one timeout per second, not one per request. */
const BYPASS_MS = 1_000;
const WARNING_INTERVAL_MS = 10_000;
const KEY_PREFIX = 'relance:rl:';

/**
 * Counters shared by every process on one Redis. When Redis cannot answer within its timeout
 * (down, unreachable, hung), requests are counted in this process's memory instead until it is
 * back: the API stays up (fail-open, never a 500 or a stall), each process still holds every
 * client to its budget on its own, so the worst case is one budget per process, and a warning is
 * logged at most every 10 seconds.
 */
export class RedisCounterStore implements CounterStore {
  private bypassUntil = 0;
  private lastWarning = 0;
  private degraded = false;

  private constructor(private readonly redis: Scripted, private readonly fallback: MemoryCounterStore, private readonly log: Logger) {
    redis.on('error', (error: Error) => this.warn(error));
    redis.on('ready', () => {
      if (!this.degraded) return;
      this.degraded = false;
      log.info('Redis is back: rate-limit counters are shared again');
    });
  }

  /** Connects (waiting at most `timeoutMs`); an unreachable Redis is a warning, and connecting goes on in the background. */
  static async open(url: string, timeoutMs: number, fallback: MemoryCounterStore, log: Logger): Promise<RedisCounterStore> {
    // Loaded only when REDIS_URL is set: every command and every serve without it starts sooner.
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, {
      lazyConnect: true,
      // A command is sent now or fails now: nothing waits in a queue for a connection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
      scripts: { relanceHit: { numberOfKeys: 1, lua: HIT } },
    }) as Scripted;
    const store = new RedisCounterStore(redis, fallback, log);
    await redis.connect().catch((error: Error) => store.warn(error));
    return store;
  }

  async hit(key: string, limit: number, windowSeconds: number): Promise<Hit> {
    if (this.redis.status !== 'ready' || Date.now() < this.bypassUntil) return this.fallback.hitNow(key, limit, windowSeconds);
    try {
      const [allowed, count, resetAt, nowMs] = await this.redis.relanceHit(KEY_PREFIX + key, windowSeconds, limit);
      return { allowed: allowed === 1, count, resetAt, nowMs };
    } catch (error) {
      this.bypassUntil = Date.now() + BYPASS_MS;
      this.warn(error as Error);
      return this.fallback.hitNow(key, limit, windowSeconds);
    }
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => {});
    this.redis.disconnect();
    await this.fallback.close();
  }

  private warn(error: Error): void {
    this.degraded = true;
    if (Date.now() - this.lastWarning < WARNING_INTERVAL_MS) return;
    this.lastWarning = Date.now();
    this.log.warn({ err: { message: error.message } }, 'Redis unavailable: rate limits are counted in this process until it is back');
  }
}
