import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { apiRoutes, operation } from '../http/api-routes.js';
import { listed, ok } from '../http/envelope.js';
import { ErrorResponseSchema, errors, type ErrorDetails } from '../http/errors.js';
import { parsePage, requirePage } from '../http/pagination.js';
import { bodyProblems } from '../http/validation.js';
import {
  CreatedWebhookResponse, CreateWebhookBody, DeletedWebhookResponse, DeliveryListResponse, DeliveryResponse, DELIVERY_STATUSES,
  ListDeliveriesQuery, ListWebhooksQuery, RetriedDeliveryResponse, RotatedWebhookResponse, RotateSecretBody, TestEventResponse,
  UpdateWebhookBody, WebhookListResponse, WebhookPath, WebhookResponse, type DeliveryStatus,
} from './schema.js';
import { toDelivery, toWebhook, toWebhookWithSecret } from './serialize.js';
import {
  companyWebhooks, createWebhook, deleteWebhook, getWebhook, retryWebhookDelivery, rotateWebhookSecret, sendTestEvent, updateWebhook,
  webhookDeliveries, webhookDelivery, type WebhookSettings,
} from './service.js';

export const webhookRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { pool, ids, keys, tokens, webhooks }) => {
  const route = apiRoutes(app, tokens, 'webhooks', WebhookPath);
  const settings: WebhookSettings = { ...webhooks, sealKey: keys.webhooks };
  // An id that does not decrypt is unknown (a 404 from the service), and costs no query.
  const webhookId = (text: string) => ids.decode('webhook', text);
  const deliveryId = (text: string) => ids.decode('webhook_delivery', text);

  // Writes take the schema's verdict with attachValidation: ownership first (another company's
  // subscription is a 403 whatever the body), then the URL and secret rules with the schema's
  // problems, so that every bad field is in one 400.
  route.post('/webhooks', { scope: 'webhooks:write', attachValidation: true }, {
    ...operation('createWebhook', 'Subscribe to events',
      'Events of the chosen types are POSTed to `url`, signed with the secret (see the README, "Webhooks"). ' +
      'The secret is in this response only.'),
    body: CreateWebhookBody,
    response: { 201: CreatedWebhookResponse },
  }, async (request, reply) => {
    const { row, secret } = await createWebhook(pool, settings, request.auth.companyId, { body: request.body, problems: bodyProblems(request) });
    return reply.code(201).send(ok('Webhook created successfully', toWebhookWithSecret(row, secret, ids)));
  });

  route.get('/webhooks', 'webhooks:read', {
    ...operation('listWebhooks', 'List webhook subscriptions'),
    querystring: ListWebhooksQuery,
    response: { 200: WebhookListResponse },
  }, async (request) => {
    const { rows, pagination } = await companyWebhooks(pool, request.auth.companyId, requirePage(request.query));
    return listed(rows.map((row) => toWebhook(row, ids)), pagination);
  });

  route.get('/webhooks/:id', 'webhooks:read', {
    ...operation('getWebhook', 'Get a webhook subscription'),
    response: { 200: WebhookResponse },
  }, async (request) => ok('Success', toWebhook(await getWebhook(pool, request.auth.companyId, webhookId(request.params.id)), ids)));

  route.patch('/webhooks/:id', { scope: 'webhooks:write', attachValidation: true }, {
    ...operation('updateWebhook', 'Change a webhook subscription',
      'Only the fields sent change. `status: "active"` re-enables a disabled subscription: the deliveries that waited go out.'),
    body: UpdateWebhookBody,
    response: { 200: WebhookResponse },
  }, async (request) => {
    const row = await updateWebhook(pool, settings, request.auth.companyId, webhookId(request.params.id), { body: request.body, problems: bodyProblems(request) });
    return ok('Webhook updated successfully', toWebhook(row, ids));
  });

  route.delete('/webhooks/:id', 'webhooks:write', {
    ...operation('deleteWebhook', 'Delete a webhook subscription', 'Its deliveries still pending are not sent.'),
    response: { 200: DeletedWebhookResponse },
  }, async (request) => {
    await deleteWebhook(pool, request.auth.companyId, webhookId(request.params.id));
    return ok('Webhook deleted successfully', { id: request.params.id });
  });

  // The body is optional: none at all means the default overlap.
  const bodyOrEmpty = async (request: FastifyRequest) => {
    request.body ??= {};
  };
  route.post('/webhooks/:id/rotate-secret', { scope: 'webhooks:write', preValidation: bodyOrEmpty }, {
    ...operation('rotateWebhookSecret', 'Rotate the signing secret',
      'A new secret, shown in this response only. The replaced one keeps signing beside it (two signatures in each header) ' +
      'for `overlap_seconds`, so receivers can switch without missing an event.'),
    body: RotateSecretBody,
    response: { 200: RotatedWebhookResponse },
  }, async (request) => {
    const { row, secret } = await rotateWebhookSecret(pool, settings, request.auth.companyId, webhookId(request.params.id), request.body.overlap_seconds);
    return ok('Webhook secret rotated', toWebhookWithSecret(row, secret, ids));
  });

  route.get('/webhooks/:id/deliveries', 'webhooks:read', {
    ...operation('listWebhookDeliveries', 'List the deliveries of a subscription',
      'Newest first, each with every attempt made (time, HTTP status, duration, error).'),
    querystring: ListDeliveriesQuery,
    response: { 200: DeliveryListResponse },
  }, async (request) => {
    const details: ErrorDetails = {};
    const page = parsePage(request.query, details);
    const status = request.query.status;
    if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) {
      details.status = `status must be one of ${DELIVERY_STATUSES.join(', ')}`;
    }
    if (Object.keys(details).length > 0) throw errors.validation(details);
    const { deliveries, pagination } = await webhookDeliveries(pool, request.auth.companyId, webhookId(request.params.id), status as DeliveryStatus | undefined, page);
    return listed(deliveries.map(({ row, attempts }) => toDelivery(row, attempts, ids)), pagination);
  });

  route.get('/webhooks/:id/deliveries/:delivery_id', 'webhooks:read', {
    ...operation('getWebhookDelivery', 'Get a delivery and its attempts'),
    response: { 200: DeliveryResponse },
  }, async (request) => {
    const { row, attempts } = await webhookDelivery(pool, request.auth.companyId, webhookId(request.params.id), deliveryId(request.params.delivery_id));
    return ok('Success', toDelivery(row, attempts, ids));
  });

  route.post('/webhooks/:id/deliveries/:delivery_id/retry', 'webhooks:write', {
    ...operation('retryWebhookDelivery', 'Redeliver an event',
      'The delivery (failed, pending or even delivered) becomes pending and due now: the event is sent again, same id, freshly signed.'),
    response: { 202: RetriedDeliveryResponse, 409: ErrorResponseSchema },
  }, async (request, reply) => {
    const { row, attempts } = await retryWebhookDelivery(pool, request.auth.companyId, webhookId(request.params.id), deliveryId(request.params.delivery_id));
    return reply.code(202).send(ok('Delivery scheduled', toDelivery(row, attempts, ids)));
  });

  route.post('/webhooks/:id/test', 'webhooks:write', {
    ...operation('testWebhook', 'Send a test event',
      'A `webhook.test` event (`data`: `{webhook_id, message}`), delivered to this subscription only, signed like any other.'),
    response: { 202: TestEventResponse, 409: ErrorResponseSchema },
  }, async (request, reply) => {
    const { row, attempts } = await sendTestEvent(pool, request.auth.companyId, webhookId(request.params.id));
    return reply.code(202).send(ok('Test event sent', toDelivery(row, attempts, ids)));
  });
};
