import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { authenticate } from '../http/authenticate.js';
import { ok } from '../http/envelope.js';
import { ErrorResponseSchema, errors, type ErrorDetails } from '../http/errors.js';
import { parsePage, requirePage } from '../http/pagination.js';
import { bodyProblems } from '../http/validation.js';
import {
  CreatedWebhookResponse, CreateWebhookBody, DeletedWebhookResponse, DeliveryListResponse, DeliveryParams, DeliveryResponse, DELIVERY_STATUSES,
  ListDeliveriesQuery, ListWebhooksQuery, RetriedDeliveryResponse, RotatedWebhookResponse, RotateSecretBody, TestEventResponse,
  UpdateWebhookBody, WebhookListResponse, WebhookParams, WebhookResponse, type DeliveryStatus,
} from './schema.js';
import { toDelivery, toWebhook, toWebhookWithSecret } from './serialize.js';
import {
  companyWebhooks, createWebhook, deleteWebhook, getWebhook, retryWebhookDelivery, rotateWebhookSecret, sendTestEvent, updateWebhook,
  webhookDeliveries, webhookDelivery, type WebhookSettings,
} from './service.js';

/** Another company's subscription (403) or none (404); the document adds the errors every route can answer. */
const errorResponses = { 403: ErrorResponseSchema, 404: ErrorResponseSchema };

export const webhookRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { pool, ids, keys, tokens, webhooks }) => {
  const read = authenticate(tokens, 'webhooks:read');
  const write = authenticate(tokens, 'webhooks:write');
  const settings: WebhookSettings = { ...webhooks, sealKey: keys.webhooks };
  // An id that does not decrypt is unknown (a 404 from the service), and costs no query.
  const webhookId = (text: string) => ids.decode('webhook', text);
  const deliveryId = (text: string) => ids.decode('webhook_delivery', text);

  // Writes take the schema's verdict with attachValidation: ownership first (another company's
  // subscription is a 403 whatever the body), then the URL and secret rules with the schema's
  // problems, so that every bad field is in one 400.
  app.post('/webhooks', {
    onRequest: write,
    attachValidation: true,
    schema: {
      operationId: 'createWebhook',
      tags: ['webhooks'],
      summary: 'Subscribe to events',
      description: 'Events of the chosen types are POSTed to `url`, signed with the secret (see the README, "Webhooks"). ' +
        'The secret is in this response only.',
      body: CreateWebhookBody,
      response: { 201: CreatedWebhookResponse },
    },
  }, async (request, reply) => {
    const { row, secret } = await createWebhook(pool, settings, request.auth.companyId, { body: request.body, problems: bodyProblems(request) });
    return reply.code(201).send(ok('Webhook created successfully', toWebhookWithSecret(row, secret, ids)));
  });

  app.get('/webhooks', {
    onRequest: read,
    schema: {
      operationId: 'listWebhooks',
      tags: ['webhooks'],
      summary: 'List webhook subscriptions',
      querystring: ListWebhooksQuery,
      response: { 200: WebhookListResponse },
    },
  }, async (request) => {
    const { rows, pagination } = await companyWebhooks(pool, request.auth.companyId, requirePage(request.query));
    return { error: false as const, data: rows.map((row) => toWebhook(row, ids)), pagination };
  });

  app.get('/webhooks/:id', {
    onRequest: read,
    schema: {
      operationId: 'getWebhook',
      tags: ['webhooks'],
      summary: 'Get a webhook subscription',
      params: WebhookParams,
      response: { 200: WebhookResponse, ...errorResponses },
    },
  }, async (request) => ok('Success', toWebhook(await getWebhook(pool, request.auth.companyId, webhookId(request.params.id)), ids)));

  app.patch('/webhooks/:id', {
    onRequest: write,
    attachValidation: true,
    schema: {
      operationId: 'updateWebhook',
      tags: ['webhooks'],
      summary: 'Change a webhook subscription',
      description: 'Only the fields sent change. `status: "active"` re-enables a disabled subscription: the deliveries that waited go out.',
      params: WebhookParams,
      body: UpdateWebhookBody,
      response: { 200: WebhookResponse, ...errorResponses },
    },
  }, async (request) => {
    const row = await updateWebhook(pool, settings, request.auth.companyId, webhookId(request.params.id), { body: request.body, problems: bodyProblems(request) });
    return ok('Webhook updated successfully', toWebhook(row, ids));
  });

  app.delete('/webhooks/:id', {
    onRequest: write,
    schema: {
      operationId: 'deleteWebhook',
      tags: ['webhooks'],
      summary: 'Delete a webhook subscription',
      description: 'Its deliveries still pending are not sent.',
      params: WebhookParams,
      response: { 200: DeletedWebhookResponse, ...errorResponses },
    },
  }, async (request) => {
    await deleteWebhook(pool, request.auth.companyId, webhookId(request.params.id));
    return ok('Webhook deleted successfully', { id: request.params.id });
  });

  app.post('/webhooks/:id/rotate-secret', {
    onRequest: write,
    // The body is optional: none at all means the default overlap.
    preValidation: async (request) => {
      request.body ??= {};
    },
    schema: {
      operationId: 'rotateWebhookSecret',
      tags: ['webhooks'],
      summary: 'Rotate the signing secret',
      description: 'A new secret, shown in this response only. The replaced one keeps signing beside it (two signatures in each header) ' +
        'for `overlap_seconds`, so receivers can switch without missing an event.',
      params: WebhookParams,
      body: RotateSecretBody,
      response: { 200: RotatedWebhookResponse, ...errorResponses },
    },
  }, async (request) => {
    const { row, secret } = await rotateWebhookSecret(pool, settings, request.auth.companyId, webhookId(request.params.id), request.body.overlap_seconds);
    return ok('Webhook secret rotated', toWebhookWithSecret(row, secret, ids));
  });

  app.get('/webhooks/:id/deliveries', {
    onRequest: read,
    schema: {
      operationId: 'listWebhookDeliveries',
      tags: ['webhooks'],
      summary: 'List the deliveries of a subscription',
      description: 'Newest first, each with every attempt made (time, HTTP status, duration, error).',
      params: WebhookParams,
      querystring: ListDeliveriesQuery,
      response: { 200: DeliveryListResponse, ...errorResponses },
    },
  }, async (request) => {
    const details: ErrorDetails = {};
    const page = parsePage(request.query, details);
    const status = request.query.status;
    if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) {
      details.status = `status must be one of ${DELIVERY_STATUSES.join(', ')}`;
    }
    if (Object.keys(details).length > 0) throw errors.validation(details);
    const { deliveries, pagination } = await webhookDeliveries(pool, request.auth.companyId, webhookId(request.params.id), status as DeliveryStatus | undefined, page);
    return { error: false as const, data: deliveries.map(({ row, attempts }) => toDelivery(row, attempts, ids)), pagination };
  });

  app.get('/webhooks/:id/deliveries/:delivery_id', {
    onRequest: read,
    schema: {
      operationId: 'getWebhookDelivery',
      tags: ['webhooks'],
      summary: 'Get a delivery and its attempts',
      params: DeliveryParams,
      response: { 200: DeliveryResponse, ...errorResponses },
    },
  }, async (request) => {
    const { row, attempts } = await webhookDelivery(pool, request.auth.companyId, webhookId(request.params.id), deliveryId(request.params.delivery_id));
    return ok('Success', toDelivery(row, attempts, ids));
  });

  app.post('/webhooks/:id/deliveries/:delivery_id/retry', {
    onRequest: write,
    schema: {
      operationId: 'retryWebhookDelivery',
      tags: ['webhooks'],
      summary: 'Redeliver an event',
      description: 'The delivery (failed, pending or even delivered) becomes pending and due now: the event is sent again, same id, freshly signed.',
      params: DeliveryParams,
      response: { 202: RetriedDeliveryResponse, ...errorResponses, 409: ErrorResponseSchema },
    },
  }, async (request, reply) => {
    const { row, attempts } = await retryWebhookDelivery(pool, request.auth.companyId, webhookId(request.params.id), deliveryId(request.params.delivery_id));
    return reply.code(202).send(ok('Delivery scheduled', toDelivery(row, attempts, ids)));
  });

  app.post('/webhooks/:id/test', {
    onRequest: write,
    schema: {
      operationId: 'testWebhook',
      tags: ['webhooks'],
      summary: 'Send a test event',
      description: 'A `webhook.test` event (`data`: `{webhook_id, message}`), delivered to this subscription only, signed like any other.',
      params: WebhookParams,
      response: { 202: TestEventResponse, ...errorResponses, 409: ErrorResponseSchema },
    },
  }, async (request, reply) => {
    const { row, attempts } = await sendTestEvent(pool, request.auth.companyId, webhookId(request.params.id));
    return reply.code(202).send(ok('Test event sent', toDelivery(row, attempts, ids)));
  });
};
