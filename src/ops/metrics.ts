import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry, type Counter, type Histogram } from 'prom-client';
import type { Pool } from '../db/pool.js';
import { DatabaseGauges } from './metrics-database.js';
import { metricsOn } from './metric-factory.js';

/** What a webhook delivery attempt came to (the deliveries run in the worker). */
export const WEBHOOK_DELIVERY_OUTCOMES = ['delivered', 'failed_http', 'failed_network', 'timeout', 'blocked'] as const;
export type WebhookDeliveryOutcome = (typeof WEBHOOK_DELIVERY_OUTCOMES)[number];

/** The budgets a request can be refused by (SPEC §10): per client reads and writes, and POST /token. */
export const RATE_LIMIT_BUCKETS = ['read', 'write', 'token'] as const;
export type RateLimitBucket = (typeof RATE_LIMIT_BUCKETS)[number];

/** Where a request that matched no route is counted: the raw URL never becomes a label. */
export const UNMATCHED_ROUTE = 'unmatched';

// From a cached read (~1 ms) to the statement timeout's 503 (10 s) and beyond.
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The Prometheus metrics of one app or worker process, on a registry of their own: tests build
 * many apps in one process, and nothing here touches prom-client's global registry. Features
 * count through the typed methods; gauges of the pools and of the database are read when
 * scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  /** `text/plain; version=0.0.4; charset=utf-8`: Prometheus's text format. */
  readonly contentType = this.registry.contentType;
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'method'>;
  private readonly deliveries: Counter<'outcome'>;
  private readonly rejections: Counter<'bucket'>;
  private readonly pools = new Map<string, Pool>();
  private readonly database: DatabaseGauges;

  /** `database` is read at scrape time (job queue, webhook deliveries), through a short cache. */
  constructor(database: Pool, log: Logger) {
    const metric = metricsOn(this.registry);
    collectDefaultMetrics({ register: this.registry });
    this.requests = metric.counter('relance_http_requests_total',
      'HTTP requests answered, by route pattern, method and status (/metrics itself excluded)', ['route', 'method', 'status']);
    this.latency = metric.histogram('relance_http_request_duration_seconds',
      "Time from a request's arrival to its answer, by route pattern and method", ['route', 'method'], LATENCY_BUCKETS);
    this.deliveries = metric.counter('relance_webhook_delivery_attempts_total',
      'Webhook delivery attempts made by this process, by outcome', ['outcome']);
    this.rejections = metric.counter('relance_rate_limit_rejections_total',
      'Requests refused with 429 for being over a rate-limit budget, by bucket', ['bucket']);
    // Every series exists from the start: a rate over a counter that appears late misses its first increments.
    for (const outcome of WEBHOOK_DELIVERY_OUTCOMES) this.deliveries.inc({ outcome }, 0);
    for (const bucket of RATE_LIMIT_BUCKETS) this.rejections.inc({ bucket }, 0);
    this.registerPoolGauges();
    this.database = new DatabaseGauges(this.registry, database, log);
  }

  /** Counts an answered request; `route` is the route's pattern (`/external-api/v1/followups/:id`) or UNMATCHED_ROUTE. */
  request(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route, method }, seconds);
  }

  webhookDeliveryAttempt(outcome: WebhookDeliveryOutcome): void {
    this.deliveries.inc({ outcome });
  }

  rateLimitRejection(bucket: RateLimitBucket): void {
    this.rejections.inc({ bucket });
  }

  /** Reports the pool's connections under `name` (`api`, `worker`) from now on. */
  watchPool(name: string, pool: Pool): void {
    this.pools.set(name, pool);
  }

  /**
   * The exposition text. Never throws for a part that cannot be read: a database read that
   * fails or does not answer in time leaves its gauges out (relance_metrics_database_up{read} 0).
   */
  async text(): Promise<string> {
    await this.database.refresh();
    return this.registry.metrics();
  }

  private registerPoolGauges(): void {
    const pools = this.pools;
    const gauge = (name: string, help: string, read: (pool: Pool) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['pool'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [label, pool] of pools) this.set({ pool: label }, read(pool));
        },
      });
    gauge('relance_db_pool_connections', 'Open PostgreSQL connections of the pool (idle and in use)', (pool) => pool.totalCount);
    gauge('relance_db_pool_idle_connections', 'Open connections of the pool waiting for a query', (pool) => pool.idleCount);
    gauge('relance_db_pool_in_use_connections', 'Connections of the pool lent out to a query or transaction', (pool) => pool.totalCount - pool.idleCount);
    gauge('relance_db_pool_waiting_requests', 'Queries waiting for a connection of the pool (new API requests are shed at DATABASE_QUEUE_LIMIT)', (pool) => pool.waitingCount);
    gauge('relance_db_pool_max_connections', 'Most connections the pool opens', (pool) => pool.options.max ?? 10);
  }
}
