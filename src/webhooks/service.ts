import { transaction, type Pool } from '../db/pool.js';
import { errors, owned, type ErrorDetails } from '../http/errors.js';
import { readPage, type PageRequest } from '../http/pagination.js';
import {
  attemptsOf, deleteSubscription, findDelivery, findSubscription, insertSubscription, insertTestEvent, listDeliveries, listSubscriptions,
  retryDelivery, rotateSecret, updateSubscription, wakeDeliverer, type AttemptRow, type DeliveryRow, type SubscriptionRow,
} from './repository.js';
import { distinctEvents, subscriptionProblems, type WebhookUrlRules } from './rules.js';
import { DEFAULT_OVERLAP_SECONDS, type CreateWebhookBody, type DeliveryStatus, type UpdateWebhookBody } from './schema.js';
import { generateSecret, sealSecret } from './secrets.js';

export interface WebhookSettings extends WebhookUrlRules {
  /** keys.webhooks: seals the signing secrets. */
  sealKey: Buffer;
}

const TEST_MESSAGE = 'This is a test event sent from Relance';

/** A new subscription and its secret (the client's own, or a generated one), or one 400 naming every bad field. */
export async function createWebhook(
  pool: Pool,
  settings: WebhookSettings,
  companyId: number,
  input: { body: CreateWebhookBody; problems: ErrorDetails },
): Promise<{ row: SubscriptionRow; secret: string }> {
  const { body } = input;
  const details = { ...input.problems };
  subscriptionProblems(body, settings, details);
  if (Object.keys(details).length > 0) throw errors.validation(details);
  const secret = body.secret ?? generateSecret();
  const row = await insertSubscription(companyId, {
    url: body.url, events: distinctEvents(body.events), description: body.description ?? null, secret: sealSecret(settings.sealKey, secret),
  }, pool);
  return { row, secret };
}

/**
 * Changes a subscription of the company: another company's is a 403 and an unknown one a 404
 * whatever the body; then every bad field in one 400. Re-enabling wakes the deliverer, in the
 * same transaction, for the deliveries that waited.
 */
export function updateWebhook(
  pool: Pool,
  settings: WebhookSettings,
  companyId: number,
  id: number | undefined,
  input: { body: UpdateWebhookBody; problems: ErrorDetails },
): Promise<SubscriptionRow> {
  return transaction(pool, async (tx) => {
    owned(id === undefined ? undefined : await findSubscription(companyId, id, tx, true), 'webhook');
    const { body } = input;
    const details = { ...input.problems };
    subscriptionProblems(body, settings, details);
    if (Object.keys(details).length > 0) throw errors.validation(details);
    const row = (await updateSubscription(companyId, id!, {
      ...(body.url !== undefined && { url: body.url }),
      ...(body.events !== undefined && { events: distinctEvents(body.events) }),
      ...(body.description !== undefined && { description: body.description }),
      ...(body.status !== undefined && { status: body.status }),
    }, tx))!;
    if (body.status === 'active') await wakeDeliverer(row.id, tx);
    return row;
  });
}

export async function deleteWebhook(pool: Pool, companyId: number, id: number | undefined): Promise<void> {
  owned(id === undefined ? undefined : await findSubscription(companyId, id, pool), 'webhook');
  // Deleted meanwhile by another request: the outcome the caller asked for.
  await deleteSubscription(companyId, id!, pool);
}

/** A new secret, shown once; the replaced one signs beside it for `overlapSeconds`. */
export async function rotateWebhookSecret(
  pool: Pool,
  settings: WebhookSettings,
  companyId: number,
  id: number | undefined,
  overlapSeconds = DEFAULT_OVERLAP_SECONDS,
): Promise<{ row: SubscriptionRow; secret: string }> {
  owned(id === undefined ? undefined : await findSubscription(companyId, id, pool), 'webhook');
  const secret = generateSecret();
  const row = await rotateSecret(companyId, id!, sealSecret(settings.sealKey, secret), overlapSeconds, pool);
  if (!row) throw errors.notFound('webhook');
  return { row, secret };
}

export async function getWebhook(pool: Pool, companyId: number, id: number | undefined): Promise<SubscriptionRow> {
  return owned(id === undefined ? undefined : await findSubscription(companyId, id, pool), 'webhook');
}

export async function companyWebhooks(pool: Pool, companyId: number, page: PageRequest) {
  return readPage(page, (window) => listSubscriptions(companyId, window, pool));
}

export interface DeliveryWithAttempts {
  row: DeliveryRow;
  attempts: AttemptRow[];
}

/** A page of a subscription's deliveries, each with its attempts. */
export async function webhookDeliveries(pool: Pool, companyId: number, id: number | undefined, status: DeliveryStatus | undefined, page: PageRequest) {
  const subscription = await getWebhook(pool, companyId, id);
  const { rows, pagination } = await readPage(page, (window) => listDeliveries(companyId, subscription.id, status, window, pool));
  return { deliveries: await withAttempts(pool, companyId, rows), pagination };
}

export async function webhookDelivery(pool: Pool, companyId: number, id: number | undefined, deliveryId: number | undefined): Promise<DeliveryWithAttempts> {
  const subscription = await getWebhook(pool, companyId, id);
  const row = deliveryId === undefined ? undefined : await findDelivery(companyId, subscription.id, deliveryId, pool);
  if (!row) throw errors.notFound('webhook delivery');
  return (await withAttempts(pool, companyId, [row]))[0]!;
}

/** Makes a delivery pending and due now, and wakes the deliverer, in one transaction. */
export function retryWebhookDelivery(pool: Pool, companyId: number, id: number | undefined, deliveryId: number | undefined): Promise<DeliveryWithAttempts> {
  return transaction(pool, async (tx) => {
    const subscription = owned(id === undefined ? undefined : await findSubscription(companyId, id, tx), 'webhook');
    const row = deliveryId === undefined ? undefined : await retryDelivery(companyId, subscription.id, deliveryId, tx);
    if (!row) throw errors.notFound('webhook delivery');
    refuseDisabled(subscription);
    await wakeDeliverer(subscription.id, tx);
    return (await withAttempts(tx, companyId, [row]))[0]!;
  });
}

/** A `webhook.test` event with one delivery to this subscription, and its deliverer woken, in one transaction. */
export function sendTestEvent(pool: Pool, companyId: number, id: number | undefined): Promise<DeliveryWithAttempts> {
  return transaction(pool, async (tx) => {
    const subscription = owned(id === undefined ? undefined : await findSubscription(companyId, id, tx), 'webhook');
    refuseDisabled(subscription);
    const row = await insertTestEvent(companyId, subscription.id, TEST_MESSAGE, tx);
    await wakeDeliverer(subscription.id, tx);
    return { row, attempts: [] };
  });
}

/** Nothing is sent to a disabled subscription: a redelivery or a test would wait there unseen. */
function refuseDisabled(subscription: SubscriptionRow): void {
  if (subscription.status === 'disabled') {
    throw errors.conflict('The webhook is disabled: re-enable it (PATCH with status "active") before sending to it');
  }
}

async function withAttempts(db: Pool | Parameters<typeof attemptsOf>[2], companyId: number, rows: DeliveryRow[]): Promise<DeliveryWithAttempts[]> {
  const attempts = await attemptsOf(companyId, rows.map((row) => row.id), db);
  return rows.map((row) => ({ row, attempts: attempts.filter((attempt) => attempt.delivery_id === row.id) }));
}
