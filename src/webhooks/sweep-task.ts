import type { Task } from 'graphile-worker';
import type { Queryable } from '../db/pool.js';
import { purgeInBatches } from '../jobs/maintenance.js';
import { deleteOldEvents, wakeDueSubscriptions } from './repository.js';

export const SWEEP_TASK = 'sweep_webhooks';
export const PURGE_EVENTS_TASK = 'purge_webhook_events';

/**
 * Wakes the deliverer of every subscription with a due delivery (every minute, and when a
 * worker starts). A deliverer's job held by a worker process that died stays locked by
 * graphile-worker for hours; adding the job again under its key then makes a new one, so the
 * deliveries it held go out within a minute. Harmless to run twice: a woken deliverer with
 * nothing to send does nothing.
 */
export const sweepWebhooks: Task = async (_payload, helpers) => {
  const woken = await helpers.withPgClient((client: Queryable) => wakeDueSubscriptions(client));
  if (woken > 0) helpers.logger.info(`woke the deliverers of ${woken} webhook subscriptions`);
};

/**
 * Deletes the events older than 30 days that no delivery waits for any more, with their
 * deliveries and attempts, in batches. Harmless to run twice or at once (the maintenance queue
 * runs them one after the other anyway): a second run finds only what aged since.
 */
export const purgeWebhookEvents: Task = async (_payload, helpers) => {
  await helpers.withPgClient(async (client: Queryable) => {
    const deleted = await purgeInBatches(PURGE_EVENTS_TASK, client, deleteOldEvents);
    if (deleted > 0) helpers.logger.info(`purged ${deleted} webhook events older than 30 days`);
  });
};
