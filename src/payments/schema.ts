import { Type, type Static } from '@sinclair/typebox';
import { Envelope, Nullable } from '../http/envelope.js';
import { named, publishedWith } from '../http/openapi-schema.js';
import { PageQuery, PageResponse } from '../http/pagination.js';

const idField = (field: string, kind: string) => Type.String({
  maxLength: 64, description: `Encrypted ID of the ${kind}`, examples: ['Qd4YaoWAqUqUu-fRwvIWqg'], errorMessage: `${field} must be a ${kind} ID string`,
});

export const CreatePaymentBody = named('PaymentCreate', Type.Object(
  {
    debt_id: idField('debt_id', 'debt the payment is for'),
    // Checked against the debt's currency by rules.ts: a number or a decimal string, read exactly.
    amount: Type.Unsafe<number | string>({
      type: ['number', 'string'],
      maxLength: 40,
      description: 'Amount paid, greater than 0: a JSON number or a decimal string ("12.30"), read exactly, with no more decimals than the currency has (at most 2)',
      examples: ['120.50'],
      errorMessage: 'amount must be a number or a decimal string',
    }),
    currency: Type.String({
      minLength: 3,
      maxLength: 3,
      pattern: '^[A-Za-z]{3}$',
      description: "ISO 4217 code; must be the debt's currency",
      examples: ['EUR'],
      errorMessage: 'currency must be an ISO 4217 currency code such as EUR',
    }),
    paid_at: Type.Optional(Type.String({
      format: 'iso-timestamp',
      maxLength: 64,
      description: 'When it was paid (ISO 8601); default: now',
      examples: ['2024-01-25T10:00:00Z'],
      errorMessage: 'Invalid paid_at format. Use ISO 8601',
    })),
    reference: Type.Optional(Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Your reference of the payment: a payment of the same debt with the same reference is returned instead of being counted twice',
      examples: ['PSP-98431'],
      errorMessage: 'reference must be a string of 1 to 255 characters',
    })),
    followup_id: Type.Optional({
      ...idField('followup_id', 'followup of the same debt that brought the payment'),
      description: 'Encrypted ID of a followup of the same debt that brought the payment; default: the followup whose tracked payment link was clicked last within the attribution window',
    }),
  },
  {
    required: ['debt_id', 'amount', 'currency'],
    errorMessage: { required: { debt_id: 'Debt ID is required', amount: 'amount is required', currency: 'currency is required' } },
    examples: [{ debt_id: 'Qd4YaoWAqUqUu-fRwvIWqg', amount: '120.50', currency: 'EUR', paid_at: '2024-01-25T10:00:00Z', reference: 'PSP-98431' }],
  },
));
export type CreatePaymentBody = Static<typeof CreatePaymentBody>;

const ts = (description: string) =>
  publishedWith(Type.String({ description, examples: ['2024-01-25T10:00:00+00:00'] }), { format: 'date-time' });

export const Payment = named('Payment', Type.Object({
  id: Type.String({ description: 'Encrypted payment identifier', examples: ['Vb1rL0mZ8d3kQyWc2xTe7g'] }),
  debt_id: Type.String({ description: 'Encrypted debt identifier' }),
  amount: Type.Number({ description: 'Amount paid, in the currency (at most its decimals)', examples: [120.5] }),
  currency: Type.String({ examples: ['EUR'] }),
  paid_at: ts('When it was paid'),
  reference: Nullable(Type.String()),
  followup_id: Nullable(Type.String({ description: 'The followup the payment is attributed to' })),
  created_at: ts('When it was recorded'),
}, { additionalProperties: false }));
export type Payment = Static<typeof Payment>;

/** The parameter of the payments' URLs (`/payments/:id`). */
export const PaymentPath = { id: Type.String({ description: 'Encrypted payment ID', examples: ['Vb1rL0mZ8d3kQyWc2xTe7g'] }) };

export const CreatedPaymentResponse = Envelope(Payment, 'Payment recorded');
export const ExistingPaymentResponse = Envelope(Payment, 'The debt already has a payment with this reference: that one is returned, nothing is counted');
export const PaymentResponse = Envelope(Payment, 'The payment');

export const ListPaymentsQuery = PageQuery({
  debt_id: Type.Optional(Type.String({ description: 'Only the payments of this debt (its encrypted ID)', examples: ['Qd4YaoWAqUqUu-fRwvIWqg'] })),
});
export type ListPaymentsQuery = Static<typeof ListPaymentsQuery>;

export const PaymentListResponse = PageResponse(Payment, 'A page of payments, latest paid first');
