import { Type, type Static } from '@sinclair/typebox';
import { Envelope, Nullable } from '../http/envelope.js';
import { named, publishedAs, publishedWith } from '../http/openapi-schema.js';
import { PageQueryFields, PageResponse } from '../http/pagination.js';
import { EnumListParam, TimestampParam } from '../http/query-params.js';

export const DEBT_STATUSES = [
  'status.default.pending',
  'status.default.paid',
  'status.default.in_progress',
  'status.default.on_hold',
  'status.default.failed',
  'status.default.archived',
] as const;
export type DebtStatus = (typeof DEBT_STATUSES)[number];
/** `pending` is the state of a new debt; clients may move it to any of the others. */
export const WRITABLE_DEBT_STATUSES = DEBT_STATUSES.filter((s) => s !== 'status.default.pending');

export const CIVILITIES = ['Mr', 'Ms'] as const;

/** Largest amount numeric(14, 2) holds. */
export const MAX_AMOUNT = 999_999_999_999.99;
export const METADATA_MAX_BYTES = 16_384;
export const METADATA_MAX_DEPTH = 16;

const text = (field: string, maxLength: number, description: string, examples: string[] = []) =>
  Nullable(
    Type.String({ maxLength, description, examples, errorMessage: `${field} must be a string of at most ${maxLength} characters` }),
  );
const name = (field: string, description: string, example: string) =>
  Type.String({
    minLength: 1,
    maxLength: 255,
    pattern: '\\S',
    description,
    examples: [example],
    errorMessage: `${field} must be a non-blank string of at most 255 characters`,
  });
const calendarDate = (field: string, description: string, example: string) =>
  Nullable(
    Type.String({
      format: 'date',
      maxLength: 10,
      // Four-digit years from 1800: PostgreSQL and the output format agree on those.
      pattern: '^(1[89]|[2-9][0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$',
      description: `${description} (YYYY-MM-DD)`,
      examples: [example],
      errorMessage: `${field} must be a date in the format YYYY-MM-DD`,
    }),
  );

/** The client-writable fields. Rules a schema cannot state are in debt-input.ts. */
const writableFields = {
  civility: Nullable(
    Type.Unsafe<(typeof CIVILITIES)[number]>({
      type: 'string',
      enum: [...CIVILITIES],
      description: 'Civility of the debtor',
      errorMessage: `Invalid civility. Valid values are: ${CIVILITIES.join(', ')}`,
    }),
  ),
  firstname: name('firstname', 'First name of the debtor (surrounding spaces are removed)', 'Jane'),
  lastname: name('lastname', 'Last name of the debtor (surrounding spaces are removed)', 'Doe'),
  phone: Nullable(
    Type.String({
      maxLength: 64,
      description:
        'Phone number of the debtor, stored in E.164 (+33612345678). A number without its international prefix ' +
        'is read in the numbering plan of the debt\'s `country`. `phone` or `email` is required.',
      examples: ['+33 6 12 34 56 78'],
      errorMessage: 'phone must be a string of at most 64 characters',
    }),
  ),
  email: Nullable(
    Type.String({
      maxLength: 254,
      format: 'email',
      description: 'Email address of the debtor. `phone` or `email` is required.',
      examples: ['jane.doe@example.com'],
      errorMessage: 'email must be a valid email address of at most 254 characters',
    }),
  ),
  amount: Type.Number({
    exclusiveMinimum: 0,
    maximum: MAX_AMOUNT,
    description:
      'Amount owed, a JSON number greater than 0 with at most 2 decimals (and no more than the currency has: none for JPY)',
    examples: [1250],
    errorMessage: `amount must be a number greater than 0 and at most ${MAX_AMOUNT}`,
  }),
  currency: Type.String({
    maxLength: 3,
    description: 'ISO 4217 currency code (stored in capitals)',
    examples: ['EUR'],
    errorMessage: 'currency must be an ISO 4217 currency code such as EUR',
  }),
  birthdate: calendarDate('birthdate', 'Birth date of the debtor', '1985-04-12'),
  object: text('object', 1000, 'What the debt is for', ['Invoice INV-2024-001']),
  internal_id: text('internal_id', 255, 'Your own identifier of the debt'),
  invoice_reference: text('invoice_reference', 255, 'Reference of the unpaid invoice', ['INV-2024-001']),
  debtor_reference: text('debtor_reference', 255, 'Your reference of the debtor (customer number)'),
  invoice_date: calendarDate('invoice_date', 'Date of the invoice', '2024-01-05'),
  due_date: calendarDate('due_date', 'Date the payment was due', '2024-02-05'),
  address: text('address', 255, 'Street address of the debtor'),
  address_complement: text('address_complement', 255, 'Address complement (building, floor...)'),
  zip_code: text('zip_code', 20, 'Postal code'),
  city: text('city', 255, 'City'),
  country: Nullable(
    Type.String({
      maxLength: 2,
      description: 'ISO 3166-1 alpha-2 country code of the debtor (stored in capitals)',
      examples: ['FR'],
      errorMessage: 'country must be an ISO 3166-1 alpha-2 country code such as FR',
    }),
  ),
  iban: Nullable(
    Type.String({
      maxLength: 64,
      description: 'IBAN of the debtor; spaces are removed, the checksum and country format are checked',
      examples: ['FR76 3000 6000 0112 3456 7890 189'],
      errorMessage: 'iban must be a string of at most 64 characters',
    }),
  ),
  payment_link: Nullable(
    Type.String({
      maxLength: 2048,
      format: 'http-url',
      description: 'Where the debtor can pay (http or https URL)',
      examples: ['https://pay.example.com/inv-2024-001'],
      errorMessage: 'payment_link must be an absolute http(s) URL of at most 2048 characters',
    }),
  ),
  // Any keys: said outright for the document, where an object without properties reads as an empty one.
  metadata: publishedWith(Nullable(
    Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      description: `Free-form JSON object of your own (at most ${METADATA_MAX_BYTES} bytes as JSON, nested at most ${METADATA_MAX_DEPTH} levels)`,
      examples: [{ crm_id: 'C-1042', segment: 'b2c' }],
      errorMessage: 'metadata must be a JSON object',
    }),
  ), { additionalProperties: true }),
};
export type DebtField = keyof typeof writableFields;
export const DEBT_FIELDS = Object.keys(writableFields) as DebtField[];

const REQUIRED_ON_CREATE = ['firstname', 'lastname', 'amount', 'currency'] as const;

export const CreateDebtBody = named('DebtCreate', Type.Object(
  {
    ...Type.Pick(Type.Object(writableFields), REQUIRED_ON_CREATE).properties,
    ...Type.Partial(Type.Omit(Type.Object(writableFields), REQUIRED_ON_CREATE)).properties,
  },
  {
    description: 'Read-only fields (id, status, amount_text, counts, import_date) are ignored if sent.',
    examples: [{
      civility: 'Ms', firstname: 'Jane', lastname: 'Doe', phone: '+33612345678', email: 'jane.doe@example.com',
      amount: 1250, currency: 'EUR', invoice_reference: 'INV-2024-001', due_date: '2024-02-05', country: 'FR',
    }],
  },
));
export type CreateDebtBody = Static<typeof CreateDebtBody>;

const statusField = Type.Unsafe<(typeof WRITABLE_DEBT_STATUSES)[number]>({
  type: 'string',
  enum: [...WRITABLE_DEBT_STATUSES],
  description: 'New status of the debt',
  errorMessage: `Invalid debt status. Valid statuses are: ${WRITABLE_DEBT_STATUSES.join(', ')}`,
});

export const UpdateDebtBody = named('DebtUpdate', Type.Object(
  { status: Type.Optional(statusField), ...Type.Partial(Type.Object(writableFields)).properties },
  {
    description: 'Only the fields sent change; `null` clears a nullable field. Read-only fields are ignored if sent.',
    examples: [{ status: 'status.default.in_progress', phone: null, email: 'jane@example.org' }],
  },
));
export type UpdateDebtBody = Static<typeof UpdateDebtBody>;

// Formats are for the document only: the serializer would write a null date-time as "".
const ts = (description: string) =>
  publishedWith(Type.String({ description, examples: ['2024-01-25T10:00:00+00:00'] }), { format: 'date-time' });
const day = () => publishedWith(Nullable(Type.String({ examples: ['2024-02-05'] })), { format: 'date' });

/** The debt as every endpoint returns it, keys in this order. */
export const Debt = named('Debt', Type.Object(
  {
    id: Type.String({ description: 'Encrypted debt identifier', examples: ['Qd4YaoWAqUqUu-fRwvIWqg'] }),
    status: Type.String({ enum: [...DEBT_STATUSES], description: '`status.default.pending` on creation' }),
    civility: Nullable(Type.String({ enum: [...CIVILITIES] })),
    firstname: Type.String(),
    lastname: Type.String(),
    phone: Nullable(Type.String({ description: 'E.164' })),
    email: Nullable(Type.String()),
    amount: Type.Number(),
    amount_text: Type.String({
      description: 'The amount formatted for display in French (fr-FR), with the currency\'s decimals and symbol',
      examples: ['1 250,00 €'],
    }),
    currency: Type.String(),
    birthdate: day(),
    object: Nullable(Type.String()),
    internal_id: Nullable(Type.String()),
    invoice_reference: Nullable(Type.String()),
    debtor_reference: Nullable(Type.String()),
    invoice_date: day(),
    due_date: day(),
    address: Nullable(Type.String()),
    address_complement: Nullable(Type.String()),
    zip_code: Nullable(Type.String()),
    city: Nullable(Type.String()),
    country: Nullable(Type.String()),
    iban: Nullable(Type.String({ description: 'Electronic format, without spaces' })),
    payment_link: Nullable(Type.String()),
    metadata: Nullable(Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true })),
    followups_count: Type.Integer({ description: 'All followups of the debt' }),
    nb_reminders: Type.Integer({
      description:
        'Contact attempts made towards the debtor: followups whose direction is not `inbound` and whose status ' +
        'shows the attempt happened (anything but `on_hold`, `scheduled` and `cancelled`)',
    }),
    nb_answered: Type.Integer({
      description: 'Followups where the debtor engaged: status `deal_found`, `deal_not_found` or `bad_behavior`',
    }),
    import_date: ts('When the debt was created in Relance'),
  },
  { additionalProperties: false },
));
export type Debt = Static<typeof Debt>;

/** The parameter of the debts' URLs (`/debts/:id`). */
export const DebtPath = { id: Type.String({ description: 'Encrypted debt ID', examples: ['Qd4YaoWAqUqUu-fRwvIWqg'] }) };

const queryParam = (description: string, examples: string[] = []) => Type.Optional(Type.String({ description, examples }));

/** Query of `GET /debts`: plain strings, checked by list-query.ts so that every error is reported at once. */
export const ListDebtsQuery = publishedAs(Type.Object({
  status: queryParam('One status or a comma-separated list', ['status.default.pending,status.default.in_progress']),
  currency: queryParam('ISO 4217 code', ['EUR']),
  created_from: queryParam('Created (import_date) at or after; date or date-time', ['2024-01-01']),
  created_to: queryParam('Created at or before (a date includes the whole day)', ['2024-01-31']),
  page: queryParam('Page number, from 1 (default 1)', ['1']),
  limit: queryParam('Items per page, 1 to 100 (default 20)', ['20']),
}), Type.Object({
  status: EnumListParam(DEBT_STATUSES, 'One status or a comma-separated list', ['status.default.pending', 'status.default.in_progress']),
  currency: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3}$', description: 'ISO 4217 currency code, any case', examples: ['EUR'] })),
  created_from: TimestampParam('Created (import_date) at or after', ['2024-01-01']),
  created_to: TimestampParam('Created at or before (a date includes the whole day, a date-time its whole second)', ['2024-01-31']),
  ...PageQueryFields,
}));
export type ListDebtsQuery = Static<typeof ListDebtsQuery>;

export const DebtResponse = Envelope(Debt, 'The debt');
export const DeletedDebtResponse = Envelope(
  named('DeletedDebt', Type.Object({
    id: Type.String({ description: 'Encrypted ID of the deleted debt' }),
    deleted_followups: Type.Integer({ description: 'Followups deleted with it' }),
  })),
  'The debt and its followups are deleted',
);
export const DebtListResponse = PageResponse(Debt, 'A page of debts, newest first');
