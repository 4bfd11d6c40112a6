import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { transaction, type Pool } from '../db/pool.js';
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

interface Snapshot {
  jobs: JobCounts[];
  deliveries: Map<string, number> | undefined;
}

/**
 * The gauges read from the database at scrape time (job queue depth, webhook deliveries by
 * status), behind a cache of a few seconds, one read at a time, each statement bounded by a
 * short timeout. When the database does not answer in time, these gauges are left out of the
 * scrape and relance_metrics_database_up is 0; every other metric is served as usual.
 */
export class DatabaseGauges {
  private readonly up: Gauge;
  private readonly jobs: Gauge<'task' | 'state'>;
  private readonly oldest: Gauge<'task'>;
  private readonly deliveries: Gauge<'status'>;
  /** Tasks seen by an earlier read: shown at 0 once their jobs are gone, rather than vanishing. */
  private readonly tasks = new Set<string>();
  private last: { at: number; snapshot: Snapshot | undefined } | undefined;
  private reading: Promise<Snapshot | undefined> | undefined;
  private lastWarning = 0;

  constructor(registry: Registry, private readonly pool: Pool, private readonly log: Logger) {
    const registers = [registry];
    this.up = new Gauge({
      name: 'relance_metrics_database_up',
      help: '1 when the database answered the last scrape-time read (job queue, webhook deliveries) in time, else 0 and those gauges are absent',
      registers,
    });
    this.jobs = new Gauge({
      name: 'relance_job_queue_jobs',
      help: 'Background jobs by task and state: ready (due, waiting for a worker), scheduled (due later or backing off), locked (taken by a worker), failed (out of attempts)',
      labelNames: ['task', 'state'],
      registers,
    });
    this.oldest = new Gauge({
      name: 'relance_job_queue_oldest_ready_seconds',
      help: 'Age of the oldest ready job by task (0 when none is waiting): how far behind the workers are',
      labelNames: ['task'],
      registers,
    });
    this.deliveries = new Gauge({
      name: 'relance_webhook_deliveries',
      help: 'Webhook deliveries in the database by status (pending, delivered, failed)',
      labelNames: ['status'],
      registers,
    });
  }

  /** Sets the gauges from a read at most DATABASE_READ_TTL_MS old, waiting at most SCRAPE_WAIT_MS for a new one. */
  async refresh(): Promise<void> {
    const snapshot = await this.snapshot();
    this.jobs.reset();
    this.oldest.reset();
    this.deliveries.reset();
    this.up.set(snapshot ? 1 : 0);
    if (!snapshot) return;
    for (const row of snapshot.jobs) if (this.tasks.size < MAX_TASKS) this.tasks.add(row.task);
    const byTask = new Map(snapshot.jobs.map((row) => [row.task, row]));
    for (const task of this.tasks) {
      const row = byTask.get(task);
      for (const state of JOB_STATES) this.jobs.set({ task, state }, row?.[state] ?? 0);
      this.oldest.set({ task }, row?.oldestReadySeconds ?? 0);
    }
    if (snapshot.deliveries) {
      for (const status of DELIVERY_STATUSES) this.deliveries.set({ status }, 0);
      for (const [status, count] of snapshot.deliveries) this.deliveries.set({ status }, count);
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

  /** One read; a failure is remembered like a success, so a database that is down is not asked at every scrape. */
  private async read(): Promise<Snapshot | undefined> {
    let snapshot: Snapshot | undefined;
    try {
      snapshot = await transaction(this.pool, async (tx) => {
        await limitStatements(STATEMENT_TIMEOUT_MS, tx);
        return { jobs: await jobCounts(tx), deliveries: await webhookDeliveryCounts(tx) };
      });
    } catch (error) {
      if (Date.now() - this.lastWarning >= WARN_EVERY_MS) {
        this.lastWarning = Date.now();
        this.log.warn({ err: error }, 'metrics: could not read the job queue and webhook deliveries from the database');
      }
    }
    this.last = { at: Date.now(), snapshot };
    return snapshot;
  }
}
