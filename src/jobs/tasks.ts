import type { TaskList } from 'graphile-worker';
import { PURGE_TASK, purgeIdempotencyKeys } from '../idempotency/purge-task.js';
import type { TaskName } from './queue.js';

/** Every task handler, one line per feature; the handler itself lives in the feature's folder. */
export const TASKS: Record<TaskName, TaskList[string]> = {
  [PURGE_TASK]: purgeIdempotencyKeys,
};

/**
 * The recurring jobs, in graphile-worker's crontab format. Each run of a schedule is one job
 * with a key of its own, so several worker processes schedule it once between them; `fill=1h`
 * makes up for runs missed while no worker was up, and jobs of the `maintenance` queue run one
 * at a time.
 */
export function crontab(purgeSchedule: string): string {
  return `${purgeSchedule} ${PURGE_TASK} ?fill=1h&max=3&queue=maintenance`;
}
