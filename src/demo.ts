import { createClient } from './auth/client-service.js';
import { SCOPES } from './auth/scopes.js';
import { countCompanies, insertCompany } from './companies/repository.js';
import { transaction, type Pool } from './db/pool.js';
import { createDebt } from './debts/service.js';
import { IdCodec } from './security/encrypted-id.js';
import type { Keys } from './security/keys.js';

/**
 * First run on an empty embedded database: a demo company, an API client with every scope and
 * a debt, printed with a curl example that works as printed. The secret is shown this once.
 */
export async function seedDemoIfEmpty(pool: Pool, keys: Keys, baseUrl: string): Promise<void> {
  const demo = await transaction(pool, async (tx) => {
    // Two servers starting at once on one database must not both seed it.
    await tx.query('LOCK TABLE companies IN EXCLUSIVE MODE');
    if ((await countCompanies(tx)) > 0) return undefined;
    const company = await insertCompany('Demo company', tx);
    const client = await createClient(company.id, { scopes: [...SCOPES], name: 'demo' }, keys.secrets, tx);
    const debt = await createDebt(company.id, {
      firstname: 'Jane', lastname: 'Doe', email: 'jane.doe@example.com', amount: 1250, currency: 'EUR',
    }, tx);
    return { company, client, debt };
  });
  if (!demo) return;

  const ids = new IdCodec(keys.ids);
  const debtId = ids.encode('debt', demo.debt.id);
  const body = JSON.stringify({
    debt_id: debtId,
    type: 'call',
    status: 'scheduled',
    scheduled_at: '2024-01-25T10:00:00Z',
    summary: 'Follow-up call to discuss payment plan',
  });
  const curl = [
    `TOKEN=$(curl -s -X POST ${baseUrl}/token -u '${demo.client.client_id}:${demo.client.client_secret}' -d grant_type=client_credentials | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `curl -s -X POST ${baseUrl}/external-api/v1/followups -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '${body}'`,
  ].join('\n');
  process.stdout.write(
    JSON.stringify({
      demo: {
        company_id: ids.encode('company', demo.company.id),
        client_id: demo.client.client_id,
        client_secret: demo.client.client_secret,
        scopes: demo.client.scopes,
        debt_id: debtId,
      },
    }) + '\n',
  );
  process.stderr.write(
    `\nRelance is running on ${baseUrl} (API reference: ${baseUrl}/docs).\n` +
      `A demo company, API client and debt were created; the client secret above is shown only once.\n` +
      `Try it:\n\n${curl}\n\n`,
  );
}
