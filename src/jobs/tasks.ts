import type { TaskList } from 'graphile-worker';
import { INGEST_TASK, ingestRecording, type IngestDeps } from '../followups/ingest-task.js';
import { PURGE_TASK, purgeIdempotencyKeys } from '../idempotency/purge-task.js';
import { DELIVER_TASK, deliverWebhooks, type WebhookDeps } from '../webhooks/deliver-task.js';
import { PURGE_EVENTS_TASK, purgeWebhookEvents, SWEEP_TASK, sweepWebhooks } from '../webhooks/sweep-task.js';
import type { TaskName } from './queue.js';

/** What task handlers need beyond the database (each takes its part). */
export type TaskDeps = IngestDeps & { webhooks: WebhookDeps };

/** Every task handler, one line per feature; the handler itself lives in the feature's folder. */
export function taskList(deps: TaskDeps): Record<TaskName, TaskList[string]> {
  return {
    [PURGE_TASK]: purgeIdempotencyKeys,
    [INGEST_TASK]: ingestRecording(deps),
    [DELIVER_TASK]: deliverWebhooks(deps.webhooks),
    [SWEEP_TASK]: sweepWebhooks,
    [PURGE_EVENTS_TASK]: purgeWebhookEvents,
  };
}

/**
 * The recurring jobs, in graphile-worker's crontab format. Each run of a schedule is one job
 * with a key of its own, so several worker processes schedule it once between them; `fill=1h`
 * makes up for runs missed while no worker was up, and jobs of the `maintenance` queue run one
 * at a time. The webhook sweep runs every minute, missed runs not made up (one is enough).
 */
export function crontab(purgeSchedule: string): string {
  return [
    `${purgeSchedule} ${PURGE_TASK} ?fill=1h&max=3&queue=maintenance`,
    `${purgeSchedule} ${PURGE_EVENTS_TASK} ?fill=1h&max=3&queue=maintenance`,
    `* * * * * ${SWEEP_TASK} ?max=1`,
  ].join('\n');
}
