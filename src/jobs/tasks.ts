import type { TaskList } from 'graphile-worker';
import { INGEST_TASK, ingestRecording, type IngestDeps } from '../followups/ingest-task.js';
import { PURGE_TASK, purgeIdempotencyKeys } from '../idempotency/purge-task.js';
import type { TaskName } from './queue.js';

/** What task handlers need beyond the database (each takes its part). */
export type TaskDeps = IngestDeps;

/** Every task handler, one line per feature; the handler itself lives in the feature's folder. */
export function taskList(deps: TaskDeps): Record<TaskName, TaskList[string]> {
  return {
    [PURGE_TASK]: purgeIdempotencyKeys,
    [INGEST_TASK]: ingestRecording(deps),
  };
}

/**
 * The recurring jobs, in graphile-worker's crontab format. Each run of a schedule is one job
 * with a key of its own, so several worker processes schedule it once between them; `fill=1h`
 * makes up for runs missed while no worker was up, and jobs of the `maintenance` queue run one
 * at a time.
 */
export function crontab(purgeSchedule: string): string {
  return `${purgeSchedule} ${PURGE_TASK} ?fill=1h&max=3&queue=maintenance`;
}
