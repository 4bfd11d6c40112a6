import { Type, type Static } from '@sinclair/typebox';
import { Envelope, Nullable } from '../http/envelope.js';
import { named, publishedWith } from '../http/openapi-schema.js';
import { PageQuery, PageResponse } from '../http/pagination.js';
import { WEBHOOK_EVENTS } from './events.js';

export const URL_LIMIT = 2048;
export const DESCRIPTION_LIMIT = 500;
export const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;
export const DEFAULT_OVERLAP_SECONDS = 24 * 3600;
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const EVENT_LIST = WEBHOOK_EVENTS.join(', ');
const ID_EXAMPLE = 'Hq3Xv9cKf0Zb2Lw7Ns4TyA';
const ts = (description: string) =>
  publishedWith(Type.String({ description, examples: ['2024-01-25T10:00:00+00:00'] }), { format: 'date-time' });

// The URL's own rules (https, no credentials, no private address) are checked by rules.ts, so
// that each gets its own message.
const url = Type.String({
  maxLength: URL_LIMIT,
  format: 'http-url',
  description: 'Where events are POSTed: an absolute https URL (http only where the server allows it), without user name or password',
  examples: ['https://hooks.example.com/relance'],
  errorMessage: `url must be an absolute https URL of at most ${URL_LIMIT} characters`,
});
const events = Type.Array(
  Type.Unsafe<string>({ type: 'string', enum: [...WEBHOOK_EVENTS] }),
  {
    minItems: 1,
    maxItems: 100,
    description: 'Event types to receive (duplicates are ignored)',
    examples: [['followup.created', 'followup.completed']],
    errorMessage: `events must be a non-empty list of event types among: ${EVENT_LIST}`,
  },
);
const description = Type.String({
  maxLength: DESCRIPTION_LIMIT,
  description: 'A note for your own use',
  examples: ['CRM sync'],
  errorMessage: `description must be a string of at most ${DESCRIPTION_LIMIT} characters`,
});

export const CreateWebhookBody = named('WebhookCreate', Type.Object(
  {
    url,
    events,
    description: Type.Optional(description),
    secret: Type.Optional(Type.String({
      maxLength: 200,
      description: 'Your own signing secret: `whsec_` and the base64 of at least 32 random bytes; by default one is generated. Shown in this response only',
      examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      errorMessage: 'secret must be a string starting with whsec_',
    })),
  },
  {
    required: ['url', 'events'],
    errorMessage: { required: { url: 'url is required', events: 'events is required' } },
    examples: [{ url: 'https://hooks.example.com/relance', events: ['followup.created', 'followup.completed'], description: 'CRM sync' }],
  },
));
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = named('WebhookUpdate', Type.Object(
  {
    url: Type.Optional(url),
    events: Type.Optional(events),
    description: Type.Optional(Nullable(description)),
    status: Type.Optional(Type.Unsafe<'active' | 'disabled'>({
      type: 'string',
      enum: ['active', 'disabled'],
      description: '`active` re-enables a disabled subscription (and forgets why it was disabled); `disabled` stops deliveries',
      errorMessage: 'status must be active or disabled',
    })),
  },
  { examples: [{ status: 'active' }] },
));
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

export const RotateSecretBody = named('WebhookSecretRotation', Type.Object({
  overlap_seconds: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: MAX_OVERLAP_SECONDS,
    description: `How long the replaced secret keeps signing beside the new one (default ${DEFAULT_OVERLAP_SECONDS}, at most ${MAX_OVERLAP_SECONDS})`,
    examples: [DEFAULT_OVERLAP_SECONDS],
    errorMessage: `overlap_seconds must be an integer from 0 to ${MAX_OVERLAP_SECONDS}`,
  })),
}, { examples: [{ overlap_seconds: 3600 }] }));
export type RotateSecretBody = Static<typeof RotateSecretBody>;

const webhookFields = {
  id: Type.String({ description: 'Encrypted webhook identifier', examples: [ID_EXAMPLE] }),
  url: Type.String({ examples: ['https://hooks.example.com/relance'] }),
  events: Type.Array(Type.String(), { examples: [['followup.created', 'followup.completed']] }),
  description: Nullable(Type.String()),
  status: Type.Unsafe<'active' | 'disabled'>({ type: 'string', enum: ['active', 'disabled'] }),
  disabled_reason: Nullable(Type.String({ description: 'Why deliveries stopped: set when the subscription was disabled for failing too long' })),
  failing_since: Nullable(ts('First failed attempt since the last success; null while deliveries succeed')),
  previous_secret_expires_at: Nullable(ts('Until then, the secret replaced by the last rotation still signs beside the current one')),
  created_at: ts('When it was created'),
  updated_at: ts('When it was last changed'),
};

export const Webhook = named('Webhook', Type.Object(webhookFields, { additionalProperties: false }));
export type Webhook = Static<typeof Webhook>;

export const WebhookWithSecret = named('WebhookWithSecret', Type.Object({
  ...webhookFields,
  secret: Type.String({ description: 'The signing secret: shown only in this response, keep it', examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwYpDo9ZW0Q2U='] }),
}, { additionalProperties: false }));
export type WebhookWithSecret = Static<typeof WebhookWithSecret>;

/** The parameters of the webhooks' URLs (`/webhooks/:id/deliveries/:delivery_id`). */
export const WebhookPath = {
  id: Type.String({ description: 'Encrypted webhook ID', examples: [ID_EXAMPLE] }),
  delivery_id: Type.String({ description: 'Encrypted delivery ID', examples: ['p0Qm3Vt8Zr1Xc5Bn7Ld2Ka'] }),
};

export const CreatedWebhookResponse = Envelope(WebhookWithSecret, 'The subscription, with its secret (shown only here)');
export const RotatedWebhookResponse = Envelope(WebhookWithSecret, 'The subscription, with its new secret (shown only here)');
export const WebhookResponse = Envelope(Webhook, 'The subscription');
export const DeletedWebhookResponse = Envelope(Type.Object({ id: Type.String() }), 'The subscription was deleted');

export const ListWebhooksQuery = PageQuery();
export type ListWebhooksQuery = Static<typeof ListWebhooksQuery>;

export const WebhookListResponse = PageResponse(Webhook, "A page of the company's subscriptions, oldest first");

export const DeliveryAttempt = named('WebhookDeliveryAttempt', Type.Object({
  attempted_at: ts('When the attempt started'),
  status_code: Nullable(Type.Integer({ description: 'HTTP status of the answer; null when none came (timeout, network, refused address)' })),
  duration_ms: Nullable(Type.Integer()),
  error: Nullable(Type.String({ description: 'Why the attempt failed; null when it succeeded' })),
}, { additionalProperties: false }));

export const Delivery = named('WebhookDelivery', Type.Object({
  id: Type.String({ description: 'Encrypted delivery identifier', examples: ['p0Qm3Vt8Zr1Xc5Bn7Ld2Ka'] }),
  event_id: Type.String({ description: 'The event\'s id: the body\'s `id` and the `webhook-id` header, the same on every attempt' }),
  event_type: Type.String({ examples: ['followup.updated'] }),
  status: Type.Unsafe<DeliveryStatus>({ type: 'string', enum: [...DELIVERY_STATUSES], description: '`pending` until a 2xx answer (`delivered`) or the end of the retry window (`failed`)' }),
  attempts: Type.Integer({ description: 'Attempts made' }),
  last_status_code: Nullable(Type.Integer()),
  last_duration_ms: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  last_attempt_at: Nullable(ts('When the last attempt started')),
  next_attempt_at: Nullable(ts('When the next attempt is due, while pending')),
  delivered_at: Nullable(ts('When a 2xx answer came')),
  created_at: ts('When the event was written'),
  attempt_log: Type.Array(DeliveryAttempt, { description: 'Every attempt, oldest first' }),
}, { additionalProperties: false }));
export type Delivery = Static<typeof Delivery>;

export const ListDeliveriesQuery = PageQuery({
  status: Type.Optional(Type.Unsafe<DeliveryStatus>({ type: 'string', enum: [...DELIVERY_STATUSES], description: 'Only the deliveries in this state' })),
});
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuery>;

export const DeliveryListResponse = PageResponse(Delivery, 'A page of the subscription\'s deliveries, newest first');
export const DeliveryResponse = Envelope(Delivery, 'The delivery and its attempts');
export const RetriedDeliveryResponse = Envelope(Delivery, 'The delivery is pending again, due now');
export const TestEventResponse = Envelope(Delivery, 'A `webhook.test` event was written, with one delivery to this subscription, due now');
