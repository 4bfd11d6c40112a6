import { Type, type Static } from '@sinclair/typebox';
import { Envelope, Nullable } from '../http/envelope.js';
import { named, publishedAs, publishedWith } from '../http/openapi-schema.js';
import { CursorPagination, PageQuery, PageQueryFields, PagePagination, PageResponse } from '../http/pagination.js';
import { EnumListParam, TimestampParam } from '../http/query-params.js';

export const FOLLOWUP_TYPES = ['call', 'sms', 'email', 'whatsapp', 'voicemail', 'manual_call', 'physical', 'postmail'] as const;
export const FOLLOWUP_STATUSES = [
  'on_hold', 'scheduled', 'in_progress', 'sent', 'delivered', 'read', 'deal_found',
  'no_answer', 'deal_not_found', 'bad_behavior', 'failed', 'cancelled',
] as const;
/** `read` is set by the service when a sent message is opened; clients may write the rest. */
export const WRITABLE_STATUSES = FOLLOWUP_STATUSES.filter((s) => s !== 'read');
export const DIRECTIONS = ['inbound', 'outbound'] as const;

export type FollowupType = (typeof FOLLOWUP_TYPES)[number];
export type FollowupStatus = (typeof FOLLOWUP_STATUSES)[number];

const TEXT_LIMIT = 10_000;
const MAX_DURATION_MS = 2_147_483_647;

const text = (field: string, maxLength: number, description: string) =>
  Nullable(Type.String({ maxLength, description, errorMessage: `${field} must be a string of at most ${maxLength} characters` }));
const timestamp = (field: string, description: string) =>
  Nullable(Type.String({ format: 'iso-timestamp', maxLength: 64, description, errorMessage: `Invalid ${field} format. Use ISO 8601`, examples: ['2024-01-25T10:00:00Z'] }));

/** The writable fields, shared by create and (later) update. */
const writableFields = {
  type: Type.Unsafe<FollowupType>({
    type: 'string',
    enum: [...FOLLOWUP_TYPES],
    description: 'Type of followup. Defaults to `call`.',
    errorMessage: `Invalid followup type. Valid types are: ${FOLLOWUP_TYPES.join(', ')}`,
  }),
  status: Type.Unsafe<FollowupStatus>({
    type: 'string',
    enum: [...WRITABLE_STATUSES],
    description: 'Followup status. Defaults to `on_hold`. `read` is set by the service only.',
    errorMessage: `Invalid followup status. Valid statuses are: ${WRITABLE_STATUSES.join(', ')}`,
  }),
  call_date: timestamp('call_date', 'When the followup was executed (ISO 8601)'),
  scheduled_at: timestamp('scheduled_at', 'When to execute the followup (ISO 8601)'),
  summary: text('summary', TEXT_LIMIT, 'Brief summary of the followup'),
  notes: text('notes', TEXT_LIMIT, 'Detailed notes about the followup'),
  call_id: text('call_id', 255, 'External call ID from the provider. A followup of the same debt with the same call_id is not created twice; an empty string means no call ID and is stored as null.'),
  audio_url: Nullable(
    Type.String({
      maxLength: 2048,
      format: 'http-url',
      description: 'URL of the call recording',
      errorMessage: 'audio_url must be an absolute http(s) URL of at most 2048 characters',
    }),
  ),
  duration_ms: Nullable(
    Type.Integer({
      minimum: 0,
      maximum: MAX_DURATION_MS,
      description: 'Duration in milliseconds (for calls)',
      errorMessage: `duration_ms must be a non-negative integer (at most ${MAX_DURATION_MS})`,
    }),
  ),
  phone_number_used: text('phone_number_used', 64, 'Phone number used for the followup'),
  direction: Nullable(
    Type.Unsafe<'inbound' | 'outbound'>({
      type: 'string',
      enum: [...DIRECTIONS],
      description: 'Call direction',
      errorMessage: 'Invalid direction. Valid values are: inbound, outbound',
    }),
  ),
  disconnection_reason: text('disconnection_reason', 255, 'Reason for call disconnection'),
  is_retry: Type.Boolean({ description: 'Whether this is a retry attempt', errorMessage: 'is_retry must be a boolean' }),
};

export const CreateFollowupBody = named('FollowupCreate', Type.Object(
  {
    debt_id: Type.String({ maxLength: 64, description: 'Encrypted ID of the debt this followup belongs to', errorMessage: 'debt_id must be a debt ID string' }),
    ...Type.Partial(Type.Object(writableFields)).properties,
  },
  {
    required: ['debt_id'],
    errorMessage: { required: { debt_id: 'Debt ID is required' } },
    examples: [{
      debt_id: 'Qd4YaoWAqUqUu-fRwvIWqg',
      type: 'call',
      status: 'scheduled',
      scheduled_at: '2024-01-25T10:00:00Z',
      summary: 'Follow-up call to discuss payment plan',
    }],
  },
));
export type CreateFollowupBody = Static<typeof CreateFollowupBody>;

const id = (description: string, example: string) => Type.String({ description, examples: [example] });
// The format is for the document only: the serializer would write a null date-time as "".
const ts = (description: string) =>
  publishedWith(Nullable(Type.String({ description, examples: ['2024-01-25T10:00:00+00:00'] })), { format: 'date-time' });

/** The followup as the create response shows it: exactly the contract's keys, in its order. */
const createdProperties = {
  id: id('Encrypted followup identifier', '4fhvfyGsKcsntMeJvlwi-w'),
  debt_id: id('Encrypted debt identifier', 'Qd4YaoWAqUqUu-fRwvIWqg'),
  status: Type.String({ enum: [...FOLLOWUP_STATUSES], description: 'Current status' }),
  type: Type.String({ enum: [...FOLLOWUP_TYPES], description: 'Type of followup' }),
  call_date: ts('When the followup was executed'),
  scheduled_at: ts('When the followup is scheduled'),
  summary: Nullable(Type.String()),
  notes: Nullable(Type.String()),
  call_id: Nullable(Type.String({ description: 'External call ID from the provider' })),
  audio_url: Nullable(Type.String({ description: 'URL of the call recording' })),
  pdf_url: Nullable(Type.String({ description: 'URL of an associated PDF document' })),
  duration_ms: Nullable(Type.Integer({ description: 'Duration in milliseconds' })),
  disconnection_reason: Nullable(Type.String()),
  direction: Nullable(Type.String({ enum: [...DIRECTIONS] })),
  phone_number_used: Nullable(Type.String()),
  is_retry: Type.Boolean(),
  processed_at: publishedWith(Type.String({ description: 'When the service last processed the followup' }), { format: 'date-time' }),
};
export const CreatedFollowup = named('CreatedFollowup', Type.Object(createdProperties, {
  additionalProperties: false,
  description: 'The followup as a create returns it: exactly these keys',
}));

export const Followup = named('Followup', Type.Object(
  {
    ...createdProperties,
    triggered_payment: Type.Boolean({ description: 'Whether a payment was attributed to this followup' }),
    email_opened: Type.Boolean(),
    email_open_count: Type.Integer(),
    email_first_opened_at: ts('First email open'),
    email_clicked: Type.Boolean(),
    email_click_count: Type.Integer(),
    media_urls_expire_at: Type.Optional(
      ts('When the pre-signed media URLs expire; present only when a pre-signed audio_url or pdf_url is'),
    ),
  },
  { additionalProperties: false },
));
export type Followup = Static<typeof Followup>;

/** The parameters of the followups' URLs (`/followups/:id`, `/followups/debt/:debtId`). */
export const FollowupPath = {
  id: Type.String({ description: 'Encrypted followup ID', examples: ['4fhvfyGsKcsntMeJvlwi-w'] }),
  debtId: Type.String({ description: 'Encrypted debt ID', examples: ['Qd4YaoWAqUqUu-fRwvIWqg'] }),
};

/** `Idempotency-Key`, checked by the handler (readIdempotencyKey) so that its message is the API's. */
export const CreateFollowupHeaders = publishedAs(
  Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: '1 to 255 visible ASCII characters (no spaces); checked by the handler' })) }),
  Type.Object({
    'Idempotency-Key': Type.Optional(Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Makes a retry safe for 24 h: the same key with the same body replays the stored response ' +
        '(header `Idempotent-Replayed: true`); with another body it is a 422',
      examples: ['dialer-7f3a-start'],
    })),
  }),
);

export const CreatedFollowupResponse = Envelope(CreatedFollowup, 'Followup created');
export const ExistingFollowupResponse = Envelope(CreatedFollowup, 'The debt already has a followup with this call_id: that one is returned');
export const FollowupResponse = Envelope(Followup, 'The followup');

export const UpdateFollowupBody = named('FollowupUpdate', Type.Object(
  {
    // Shown as the schema no value matches: sending it is a 400 (generated types make it `never`).
    debt_id: Type.Optional(publishedAs(
      Type.Unsafe<never>({ not: {}, description: 'Not writable', errorMessage: 'debt_id cannot be changed: a followup stays on its debt' }),
      false,
    )),
    ...Type.Partial(Type.Object(writableFields)).properties,
  },
  {
    description: 'Only the fields sent change; `null` clears a nullable field. `debt_id` cannot be changed.',
    examples: [{ status: 'deal_found', call_date: '2024-01-22T10:30:00Z', duration_ms: 180000 }],
  },
));
export type UpdateFollowupBody = Static<typeof UpdateFollowupBody>;

export const UpdatedFollowupResponse = Envelope(Followup, 'The updated followup');

const listParam = (description: string, examples: string[]) => Type.Optional(Type.String({ description, examples }));

/** Query parameters of the followup lists; parsed by list-query.ts so that every error is reported at once. */
const listQueryFields = {
  status: listParam('One status or a comma-separated list', ['scheduled,no_answer']),
  type: listParam('One type or a comma-separated list', ['call']),
  debt_id: listParam('Only the followups of this debt', []),
  date_from: listParam('Activity date (call_date, else scheduled_at, else creation) on or after; date or date-time', ['2024-01-01']),
  date_to: listParam('Activity date on or before (a date includes the whole day)', ['2024-01-31']),
  scheduled_from: listParam('scheduled_at on or after', []),
  scheduled_to: listParam('scheduled_at on or before (a date includes the whole day)', []),
  updated_since: listParam('Changed at or after this instant', []),
  sort: listParam('-activity_date (default), activity_date, -updated_at or updated_at', ['-activity_date']),
  page: listParam('Page number, from 1 (default 1)', ['1']),
  limit: listParam('Items per page, 1 to 100 (default 20)', ['20']),
  cursor: listParam('Opaque cursor from pagination.next_cursor, instead of page, for deep and stable scans', []),
};

/** The SORTS of list-query.ts. */
export const FOLLOWUP_SORT_VALUES = ['-activity_date', 'activity_date', '-updated_at', 'updated_at'] as const;

/** What parseListQuery accepts, as the document shows it. */
const shownListQueryFields = {
  status: EnumListParam(FOLLOWUP_STATUSES, 'One status or a comma-separated list', ['scheduled', 'no_answer']),
  type: EnumListParam(FOLLOWUP_TYPES, 'One type or a comma-separated list', ['call']),
  debt_id: Type.Optional(Type.String({ description: 'Only the followups of this debt (its encrypted ID)', examples: ['Qd4YaoWAqUqUu-fRwvIWqg'] })),
  date_from: TimestampParam('Activity date (call_date, else scheduled_at, else creation) on or after', ['2024-01-01']),
  date_to: TimestampParam('Activity date on or before (a date includes the whole day, a date-time its whole second)', ['2024-01-31']),
  scheduled_from: TimestampParam('scheduled_at on or after'),
  scheduled_to: TimestampParam('scheduled_at on or before (a date includes the whole day, a date-time its whole second)'),
  updated_since: TimestampParam('Changed at or after this instant'),
  sort: Type.Optional(Type.Unsafe<string>({
    type: 'string', enum: [...FOLLOWUP_SORT_VALUES], default: '-activity_date', description: 'Order of the list; ties are ordered by id',
  })),
  ...PageQueryFields,
  cursor: Type.Optional(Type.String({
    maxLength: 200,
    pattern: '^[A-Za-z0-9_-]*$',
    description: 'Instead of page, for deep and stable scans: empty to start, then each pagination.next_cursor (with the same sort)',
  })),
};

export const ListFollowupsQuery = publishedAs(Type.Object(listQueryFields), Type.Object(shownListQueryFields));
export type ListFollowupsQuery = Static<typeof ListFollowupsQuery>;

/** The same query under /followups/debt/{debtId}, where the path names the debt and a `debt_id` parameter is ignored. */
export const DebtFollowupsQuery = publishedAs(Type.Object(listQueryFields), Type.Omit(Type.Object(shownListQueryFields), ['debt_id']));

export const FollowupListResponse = Type.Object({
  error: Type.Literal(false),
  data: Type.Array(Followup),
  // The serializer writes the first schema the value matches, keys in that schema's order.
  pagination: Type.Union([PagePagination, CursorPagination]),
}, { description: 'A page of followups: `pagination` has `total` and `pages` in page mode, `next_cursor` in cursor mode' });

export const FollowupChange = named('FollowupChange', Type.Object({
  at: publishedWith(Type.String({ description: 'When the change was made' }), { format: 'date-time' }),
  field: Type.String(),
  from: Type.Unknown({ description: 'Value before (null when the field was empty or the followup was created)' }),
  to: Type.Unknown({ description: 'Value after' }),
  source: Type.String({ description: 'api:<client_id>, tracking, payment or system', examples: ['api:rlc_0123'] }),
}));
export const HistoryQuery = PageQuery();
export const HistoryResponse = PageResponse(FollowupChange, "A page of the followup's changes, oldest first");
