import { after } from 'node:test';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';

/**
 * The Redis of the test run (TEST_REDIS_URL: REDIS_URL, or the redis-server test/run.ts
 * started). Without one, the file fails here, saying what to install: the Redis path is never
 * skipped.
 */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) {
    throw new Error(
      'No Redis for the tests: install redis-server (Debian: `apt-get install redis-server`) so that `npm test` starts a ' +
        'throw-away one, or set REDIS_URL to a Redis it may write to; then run the tests with `npm test`',
    );
  }
  return url;
}

/** A client of the test Redis, closed after the file's tests, for reading what the counters hold. */
export function redisClient(): Redis {
  const redis = new Redis(testRedisUrl(), { commandTimeout: 5_000, maxRetriesPerRequest: 1 });
  after(() => redis.quit().catch(() => redis.disconnect()));
  return redis;
}

/** What a budget holds in Redis: its window's end and its count (the hash RedisCounterStore writes). */
export async function storedCount(redis: Redis, key: string): Promise<number | undefined> {
  const count = await redis.hget(`relance:rl:${key}`, 'count');
  return count === null ? undefined : Number(count);
}

export type ProxyMode = 'forward' | 'hang' | 'down';

/**
 * A TCP relay between Relance and the test Redis, for outages of a real Redis without stopping
 * the one other test files share: `hang` keeps the connections open and passes nothing either way
 * (a Redis that stopped answering), `down` closes every connection and refuses new ones (a Redis
 * that is gone), `forward` relays again.
 */
export class RedisProxy {
  private mode: ProxyMode = 'forward';
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly inbound = new Set<Socket>();
  port = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(): Promise<RedisProxy> {
    const target = new URL(testRedisUrl());
    const proxy = new RedisProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.listen();
    after(() => proxy.stop());
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Connections open from Relance's side. */
  get connections(): number {
    return this.inbound.size;
  }

  async set(mode: ProxyMode): Promise<void> {
    this.mode = mode;
    if (mode === 'down') {
      for (const socket of this.sockets) socket.destroy();
      await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
      this.server = undefined;
    } else if (!this.server) {
      await this.listen();
    }
  }

  async stop(): Promise<void> {
    await this.set('down');
  }

  private listen(): Promise<void> {
    const server = createServer((inbound) => {
      const outbound = connect(this.target);
      this.inbound.add(inbound);
      this.sockets.add(inbound);
      this.sockets.add(outbound);
      const close = () => {
        inbound.destroy();
        outbound.destroy();
        this.inbound.delete(inbound);
        this.sockets.delete(inbound);
        this.sockets.delete(outbound);
      };
      inbound.on('data', (chunk) => this.mode === 'forward' && outbound.write(chunk));
      outbound.on('data', (chunk) => this.mode === 'forward' && inbound.write(chunk));
      for (const socket of [inbound, outbound]) {
        socket.on('error', close);
        socket.on('close', close);
      }
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }
}
