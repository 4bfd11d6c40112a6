import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../app-context.js';
import { apiRoutes, OBJECT_ERRORS, operation } from '../http/api-routes.js';
import { listed, ok } from '../http/envelope.js';
import { owned } from '../http/errors.js';
import { requirePage } from '../http/pagination.js';
import { findPayment } from './repository.js';
import {
  CreatedPaymentResponse, CreatePaymentBody, ExistingPaymentResponse, ListPaymentsQuery, PaymentListResponse, PaymentPath, PaymentResponse,
} from './schema.js';
import { toPayment } from './serialize.js';
import { companyPayments, createPayment } from './service.js';

export const paymentRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, { pool, ids, tokens, paymentAttributionDays }) => {
  const route = apiRoutes(app, tokens, 'payments', PaymentPath);

  route.post('/payments', 'payments:write', {
    ...operation('createPayment', 'Record a payment',
      'An explicit `followup_id` (of the same debt) gets the attribution; otherwise the followup whose tracked link to the debt\'s ' +
      '`payment_link` a person clicked last within the attribution window before `paid_at`. The attributed followup gets ' +
      '`triggered_payment: true`. Once the debt\'s payments cover its amount, its status becomes `status.default.paid`. ' +
      'A `reference` already recorded on the debt returns that payment with 200.'),
    body: CreatePaymentBody,
    response: { 200: ExistingPaymentResponse, 201: CreatedPaymentResponse },
  }, async (request, reply) => {
    const outcome = await createPayment(pool, ids, paymentAttributionDays, request.auth.companyId, request.body);
    if ('created' in outcome) return reply.code(201).send(ok('Payment recorded successfully', toPayment(outcome.created, ids)));
    return reply.code(200).send(ok('Payment already recorded', toPayment(outcome.existing, ids)));
  });

  route.get('/payments/:id', 'payments:read', {
    ...operation('getPayment', 'Get a payment'),
    response: { 200: PaymentResponse },
  }, async (request) => {
    const id = ids.decode('payment', request.params.id);
    const lookup = id === undefined ? undefined : await findPayment(request.auth.companyId, id, pool);
    return ok('Success', toPayment(owned(lookup, 'payment'), ids));
  });

  route.get('/payments', 'payments:read', {
    ...operation('listPayments', 'List payments', 'Latest paid first (ties by id); `debt_id` keeps those of one debt.'),
    querystring: ListPaymentsQuery,
    // `debt_id` names a debt: another company's is a 403, an unknown one a 404.
    response: { 200: PaymentListResponse, ...OBJECT_ERRORS },
  }, async (request) => {
    const page = requirePage(request.query);
    const { rows, pagination } = await companyPayments(pool, ids, request.auth.companyId, request.query.debt_id, page);
    return listed(rows.map((row) => toPayment(row, ids)), pagination);
  });
};
