import { Type, type Static } from '@sinclair/typebox';
import { Envelope } from '../http/envelope.js';
import { named, publishedWith } from '../http/openapi-schema.js';
import { PageQuery, PageResponse } from '../http/pagination.js';

export const EVENT_TYPES = ['delivered', 'opened', 'clicked', 'bounced'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const URL_LIMIT = 2048;

export const TrackingLinkBody = named('TrackingLinkCreate', Type.Object(
  {
    url: Type.String({
      maxLength: URL_LIMIT,
      format: 'http-url',
      description: 'Where the tracked link leads (http or https URL)',
      examples: ['https://pay.example.com/inv-2024-001'],
      errorMessage: `url must be an absolute http(s) URL of at most ${URL_LIMIT} characters`,
    }),
  },
  { required: ['url'], errorMessage: { required: { url: 'url is required' } } },
));
export type TrackingLinkBody = Static<typeof TrackingLinkBody>;

const trackedUrl = (description: string) => Type.String({ description, examples: ['https://relance.example.com/t/c/3q2-7wAbZc9V0n1l4yQmKx8sT6uJ5rPp0oNhGfEdCbA'] });

export const TrackingLinkResponse = Envelope(named('TrackingLink', Type.Object({
  followup_id: Type.String({ description: 'Encrypted followup identifier' }),
  url: trackedUrl('The tracked URL to put in the message: a click is counted, then the reader is sent to `destination`'),
  destination: Type.String({ description: 'Where the tracked URL leads, as it will be sent in `Location`' }),
})), 'A tracked link for the followup');

export const TrackingPixelResponse = Envelope(named('TrackingPixel', Type.Object({
  followup_id: Type.String({ description: 'Encrypted followup identifier' }),
  url: trackedUrl('The open pixel to embed as a 1×1 image; the same URL every time for a followup'),
})), "The followup's open pixel");

export const ProviderEventBody = named('ProviderTrackingEvent', Type.Object(
  {
    type: Type.Unsafe<EventType>({
      type: 'string',
      enum: [...EVENT_TYPES],
      description: '`delivered` moves a `sent` followup to `delivered`; `opened` and `clicked` count as a person\'s (unless `user_agent` is a known machine); `bounced` marks the followup `failed` unless it is `read` or has an outcome (`deal_found`, `deal_not_found`, `no_answer`, `bad_behavior`, `cancelled`)',
      errorMessage: `Invalid event type. Valid types are: ${EVENT_TYPES.join(', ')}`,
    }),
    provider_event_id: Type.Optional(Type.String({
      minLength: 1,
      maxLength: 255,
      description: "The provider's id of the event: an event already received with this id (in your company) is not counted again. " +
        'Without it every report is a new event: send it whenever the provider may retry',
      examples: ['evt_01HQ3K'],
      errorMessage: 'provider_event_id must be a string of 1 to 255 characters',
    })),
    occurred_at: Type.Optional(Type.String({
      format: 'iso-timestamp',
      maxLength: 64,
      description: 'When it happened (ISO 8601); default: now',
      examples: ['2024-01-25T10:00:00Z'],
      errorMessage: 'Invalid occurred_at format. Use ISO 8601',
    })),
    url: Type.Optional(Type.String({
      maxLength: URL_LIMIT,
      format: 'http-url',
      description: 'For `clicked`: the URL clicked',
      examples: ['https://pay.example.com/inv-2024-001'],
      errorMessage: `url must be an absolute http(s) URL of at most ${URL_LIMIT} characters`,
    })),
    user_agent: Type.Optional(Type.String({
      maxLength: 1024,
      description: 'The User-Agent the provider saw, if any: known prefetchers and scanners are not counted',
      errorMessage: 'user_agent must be a string of at most 1024 characters',
    })),
  },
  {
    required: ['type'],
    errorMessage: { required: { type: 'type is required' } },
    examples: [{ type: 'opened', provider_event_id: 'evt_01HQ3K', occurred_at: '2024-01-25T10:00:00Z' }],
  },
));
export type ProviderEventBody = Static<typeof ProviderEventBody>;

export const TrackingEvent = named('TrackingEvent', Type.Object({
  id: Type.String({ description: 'Encrypted event identifier' }),
  type: Type.String({ enum: [...EVENT_TYPES] }),
  occurred_at: publishedWith(Type.String({ description: 'When it happened', examples: ['2024-01-25T10:00:00+00:00'] }), { format: 'date-time' }),
  machine: Type.Boolean({ description: 'A known prefetcher or link scanner: not counted' }),
  user_agent_class: Type.String({
    description: 'human, provider, apple_privacy_proxy, google_image_proxy, yahoo_mail_proxy, microsoft_scanner, security_scanner, bot, empty or head_request',
    examples: ['human'],
  }),
  url: Type.Optional(Type.String({ description: 'For clicks: where the link led' })),
}, { additionalProperties: false }));

export const CreatedEventResponse = Envelope(TrackingEvent, 'The event is recorded');
export const ExistingEventResponse = Envelope(TrackingEvent, 'An event with this provider_event_id was already received: that one is returned, nothing is counted');

export const EventsQuery = PageQuery();
export const EventListResponse = PageResponse(TrackingEvent, "A page of the followup's tracking events, oldest first");
