import type { Logger } from 'pino';
import type { Gauge, Registry } from 'prom-client';
import { metricsOn } from './metric-factory.js';
import { transaction, type Pool, type Queryable } from '../db/pool.js';
import { jobCounts, limitStatements, webhookDeliveryCounts, type JobCounts } from './metrics-repository.js';

/** A read is reused by every scrape for this long: however many scrapers, one read per period. */
export const DATABASE_READ_TTL_MS = 5_000;
/** A scrape waits this long for a read, then answers without the database's figures. */
const SCRAPE_WAIT_MS = 2_000;
/** PostgreSQL cancels a read's statements (and lock waits) after this. */
const STATEMENT_TIMEOUT_MS = 1_000;
const WARN_EVERY_MS = 60_000;
const JOB_STATES = ['ready', 'scheduled', 'locked', 'failed'] as const;
const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'];
/** Task names are ours, but a job added by hand could name anything: the series stay bounded. */
const MAX_TASKS = 100;

/** What one round of reads found; undefined where a read failed or did not answer in time. */
interface Snapshot {
  jobs: JobCounts[] | undefined;
  /** null: the database has no webhook_deliveries table. */
  deliveries: Map<string, number> | null | undefined;
}

type Read = 'job_queue' | 'webhook_deliveries';

/**
 * The gauges read from the database at scrape time (job queue depth, webhook deliveries by
 * status), behind a cache of a few seconds, one round of reads at a time, each read in a
 * transaction of its own whose statements and lock waits are bounded by a short timeout. A read
 * that fails or does not answer in time leaves its gauges out of the scrape, with
 * relance_metrics_database_up{read} at 0; every other metric is served as usual.
 */
export class DatabaseGauges {
  private readonly up: Gauge<'read'>;
  private readonly jobs: Gauge<'task' | 'state'>;
  private readonly oldest: Gauge<'task'>;
  private readonly deliveries: Gauge<'status'>;
  /** Tasks seen by an earlier read: shown at 0 once their jobs are gone, rather than vanishing. */
  private readonly tasks = new Set<string>();
  private last: { at: number; snapshot: Snapshot | undefined } | undefined;
  private reading: Promise<Snapshot | undefined> | undefined;
  private lastWarning = 0;

  constructor(registry: Registry, private readonly pool: Pool, private readonly log: Logger) {
    const metric = metricsOn(registry);
    this.up = metric.gauge('relance_metrics_database_up',
      '1 when the database answered the last scrape-time read (job_queue, webhook_deliveries) in time, else 0 and its gauges are absent', ['read']);
    this.jobs = metric.gauge('relance_job_queue_jobs',
      'Background jobs by task and state: ready (due, waiting for a worker), scheduled (due later or backing off), locked (taken by a worker), failed (out of attempts)',
      ['task', 'state']);
    this.oldest = metric.gauge('relance_job_queue_oldest_ready_seconds',
      'Age of the oldest ready job by task (0 when none is waiting): how far behind the workers are', ['task']);
    this.deliveries = metric.gauge('relance_webhook_deliveries',
      'Webhook deliveries in the database by status (pending, delivered, failed)', ['status']);
  }

  /** Sets the gauges from reads at most DATABASE_READ_TTL_MS old, waiting at most SCRAPE_WAIT_MS for new ones. */
  async refresh(): Promise<void> {
    const { jobs, deliveries } = (await this.snapshot()) ?? { jobs: undefined, deliveries: undefined };
    this.jobs.reset();
    this.oldest.reset();
    this.deliveries.reset();
    this.up.set({ read: 'job_queue' }, jobs ? 1 : 0);
    this.up.set({ read: 'webhook_deliveries' }, deliveries === undefined ? 0 : 1);
    if (jobs) {
      for (const row of jobs) if (this.tasks.size < MAX_TASKS) this.tasks.add(row.task);
      const byTask = new Map(jobs.map((row) => [row.task, row]));
      for (const task of this.tasks) {
        const row = byTask.get(task);
        for (const state of JOB_STATES) this.jobs.set({ task, state }, row?.[state] ?? 0);
        this.oldest.set({ task }, row?.oldestReadySeconds ?? 0);
      }
    }
    if (deliveries) {
      for (const status of DELIVERY_STATUSES) this.deliveries.set({ status }, 0);
      for (const [status, count] of deliveries) this.deliveries.set({ status }, count);
    }
  }

  private async snapshot(): Promise<Snapshot | undefined> {
    if (this.last && Date.now() - this.last.at < DATABASE_READ_TTL_MS) return this.last.snapshot;
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, SCRAPE_WAIT_MS, undefined);
    });
    try {
      // A read that outlasts the wait goes on, and the next scrape may use what it finds.
      return await Promise.race([this.reading, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One round; a failure is remembered like a success, so a database that is down is not asked at every scrape. */
  private async read(): Promise<Snapshot> {
    // One after the other, on one connection at a time: a slow count of deliveries cannot hide the queue.
    const jobs = await this.attempt('job_queue', jobCounts);
    const deliveries = await this.attempt('webhook_deliveries', async (tx) => (await webhookDeliveryCounts(tx)) ?? null);
    const snapshot = { jobs, deliveries };
    this.last = { at: Date.now(), snapshot };
    return snapshot;
  }

  private async attempt<T>(read: Read, work: (tx: Queryable) => Promise<T>): Promise<T | undefined> {
    try {
      return await transaction(this.pool, async (tx) => {
        await limitStatements(STATEMENT_TIMEOUT_MS, tx);
        return work(tx);
      });
    } catch (error) {
      if (Date.now() - this.lastWarning >= WARN_EVERY_MS) {
        this.lastWarning = Date.now();
        this.log.warn({ err: error, read }, 'metrics: a scrape-time read of the database failed; its gauges are left out');
      }
      return undefined;
    }
  }
}
