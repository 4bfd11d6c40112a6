/**
 * A delivery is sent inside the transaction that holds its row: a receiver slower to answer than
 * the worker sessions' idle-in-transaction limit (a minute in production, 1.5 s here) must still
 * have its attempt's outcome committed, once, instead of the session being ended under it and the
 * event sent again and again with nothing logged.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { waitFor } from '../helpers/processes.js';
import { body } from '../helpers/setup.js';
import { deliveryWorker, webhookClient, webhookSetup } from '../helpers/webhooks.js';

const ctx = await webhookSetup();
const api = webhookClient(ctx);
const worker = await deliveryWorker(ctx, { timeoutMs: 6_000, retryBaseMs: 100 }, {}, { idleInTransactionTimeoutMs: 1_500 });

let requests = 0;
const slow = createServer((request, response) => {
  requests++;
  request.resume();
  setTimeout(() => response.end('ok'), 3_000);
});
await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
after(() => new Promise<void>((resolve) => {
  slow.closeAllConnections();
  slow.close(() => resolve());
}));
const port = (slow.address() as AddressInfo).port;

test('a receiver slower than the idle-in-transaction limit, within the send timeout: delivered once, its attempt logged', { timeout: 60_000 }, async () => {
  const tenant = await ctx.tenant();
  const sub = await api.created(tenant, { url: `http://127.0.0.1:${port}/hook`, events: ['debt.created'] });
  assert.equal((await api.test(tenant, sub.id)).statusCode, 202);
  const delivery = await waitFor('the delivery to settle', async () => {
    const [d] = body(await api.deliveries(tenant, sub.id)).data;
    return d?.status === 'delivered' || d?.attempts > 0 ? d : undefined;
  }, 30_000);
  assert.equal(delivery.status, 'delivered');
  assert.equal(delivery.attempts, 1);
  assert.equal(delivery.attempt_log[0].status_code, 200);
  assert.ok(delivery.last_duration_ms >= 2_900, `the attempt took ${delivery.last_duration_ms} ms`);
  assert.equal(requests, 1, 'sent once');
  assert.deepEqual(worker.outcomes, ['delivered']);
  // Stopped here, before the file's database is dropped under its sessions.
  await worker.stop();
});
