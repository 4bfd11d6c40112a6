import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from '../auth/client-service.js';
import { SCOPES } from '../auth/scopes.js';
import { countCompanies, insertCompany } from '../companies/repository.js';
import { transaction, type Pool } from '../db/pool.js';
import { CreateDebtBody } from '../debts/schema.js';
import { createDebt } from '../debts/service.js';
import { bodyChecker } from '../http/validation.js';
import { IdCodec } from '../security/encrypted-id.js';
import type { Keys } from '../security/keys.js';

/**
 * First run on an empty embedded database: a demo company, an API client with every scope and
 * a debt, printed on stderr with a curl example that works as printed, and kept in
 * DATA_DIR/demo-credentials.json (0600) for scripts. Never on stdout: that is the JSON log stream,
 * which log collectors keep and share.
 */
const checkCreateBody = bodyChecker(CreateDebtBody);

export async function seedDemoIfEmpty(pool: Pool, keys: Keys, baseUrl: string, dataDir: string): Promise<void> {
  const ids = new IdCodec(keys.ids);
  const file = join(dataDir, 'demo-credentials.json');
  const credentials = await transaction(pool, async (tx) => {
    // Two servers starting at once on one database must not both seed it.
    await tx.query('LOCK TABLE companies IN EXCLUSIVE MODE');
    if ((await countCompanies(tx)) > 0) return undefined;
    const company = await insertCompany('Demo company', tx);
    const client = await createClient(company.id, { scopes: [...SCOPES], name: 'demo' }, keys.secrets, tx);
    const body = { firstname: 'Jane', lastname: 'Doe', email: 'jane.doe@example.com', amount: 1250, currency: 'EUR' };
    const debt = await createDebt(company.id, { body, problems: checkCreateBody(body) }, tx);
    const credentials = {
      company_id: ids.encode('company', company.id),
      client_id: client.client_id,
      client_secret: client.client_secret,
      scopes: client.scopes,
      debt_id: ids.encode('debt', debt.id),
    };
    // Saved before the seed commits: should the file not be written (a full disk), nothing is
    // seeded and the next start tries again, instead of a demo whose secret nobody ever saw.
    await writeFile(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
    return credentials;
  });
  if (!credentials) return;

  const debtId = credentials.debt_id;
  const body = JSON.stringify({
    debt_id: debtId,
    type: 'call',
    status: 'scheduled',
    scheduled_at: '2024-01-25T10:00:00Z',
    summary: 'Follow-up call to discuss payment plan',
  });
  const curl = [
    `TOKEN=$(curl -s -X POST ${baseUrl}/token -u '${credentials.client_id}:${credentials.client_secret}' -d grant_type=client_credentials | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `curl -s -X POST ${baseUrl}/external-api/v1/followups -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '${body}'`,
  ].join('\n');
  process.stderr.write(
    `\nRelance is running on ${baseUrl} (API reference: ${baseUrl}/docs).\n` +
      `A demo company, API client and debt were created (also saved, readable by you only, in ${file}):\n\n` +
      `  company_id     ${credentials.company_id}\n  client_id      ${credentials.client_id}\n` +
      `  client_secret  ${credentials.client_secret}\n  debt_id        ${credentials.debt_id}\n\n` +
      `Try it:\n\n${curl}\n\n`,
  );
}
