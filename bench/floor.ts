/**
 * A floor: the least a route can do for a scenario, on bare Fastify (no logger, auth,
 * validation, response schema or hooks) and, for the SQL floors, one pg pool of Relance's size on
 * the same database. Each runs in a process of its own, compiled to plain JavaScript as Relance
 * is (servers.ts `buildTargets`) and started by run.ts with `fork`:
 *
 *   node bench/.build/floor.mjs <kind>
 *
 * kinds: `constant` (answers each scenario's recorded Relance response, read from
 * FLOOR_CONSTANTS, a JSON file), `select` (one named primary-key SELECT), `insert` (one named
 * single-row INSERT), `list` (a page of the company's followups, first or after a keyset).
 * Nothing here imports Relance: the SQL is written out, so a floor costs what its statement
 * costs and nothing Relance does.
 *
 * Settings: FLOOR_DATABASE_URL, FLOOR_POOL_SIZE, FLOOR_COMPANY_ID. The listening port is sent
 * to the parent over IPC as `{ port }`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import pg from 'pg';

const PAGE = 20;

type Kind = 'constant' | 'select' | 'insert' | 'list';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function pool(): pg.Pool {
  const db = new pg.Pool({ connectionString: env('FLOOR_DATABASE_URL'), max: Number(env('FLOOR_POOL_SIZE')), options: '-c TimeZone=UTC' });
  db.on('error', () => {});
  return db;
}

/** Each recorded Relance response at `/constant/<slot>`, status and bytes as Relance sent them. */
function constantRoutes(app: FastifyInstance): void {
  const constants = JSON.parse(readFileSync(env('FLOOR_CONSTANTS'), 'utf8')) as Record<string, { method: 'GET' | 'POST'; status: number; body: string }>;
  for (const [slot, { method, status, body }] of Object.entries(constants)) {
    app.route({ method, url: `/constant/${slot}`, handler: (_request, reply) => reply.code(status).type('application/json; charset=utf-8').send(body) });
  }
}

function selectRoutes(app: FastifyInstance, db: pg.Pool, companyId: string): void {
  app.get<{ Params: { id: string } }>('/followups/:id', async (request, reply) => {
    const { rows } = await db.query({
      name: 'floor-select',
      text: 'SELECT * FROM followups WHERE id = $1 AND company_id = $2',
      values: [request.params.id, companyId],
    });
    return rows[0] ?? reply.code(404).send({ error: true });
  });
}

interface CreateBody {
  debt_id: string;
  type: string;
  status: string;
  scheduled_at: string;
  summary: string;
  notes: string;
}

function insertRoutes(app: FastifyInstance, db: pg.Pool, companyId: string): void {
  app.post<{ Body: CreateBody }>('/followups', async (request, reply) => {
    const b = request.body;
    const { rows } = await db.query({
      name: 'floor-insert',
      text: `INSERT INTO followups (company_id, debt_id, type, status, scheduled_at, summary, notes)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      values: [companyId, b.debt_id, b.type, b.status, b.scheduled_at, b.summary, b.notes],
    });
    return reply.code(201).send(rows[0]);
  });
}

/**
 * The page Relance's `GET /followups` answers (newest activity first, ties by id): the first
 * page with its total (the per-company counters, as Relance reads them when no filter applies),
 * both statements side by side as Relance runs them; and a keyset page after (activity_at, id).
 */
function listRoutes(app: FastifyInstance, db: pg.Pool, companyId: string): void {
  app.get('/followups', async () => {
    const [page, total] = await Promise.all([
      db.query({
        name: 'floor-first-page',
        text: 'SELECT * FROM followups WHERE company_id = $1 ORDER BY activity_at DESC, id DESC LIMIT $2',
        values: [companyId, PAGE],
      }),
      db.query({
        name: 'floor-total',
        text: 'SELECT coalesce(sum(n), 0)::bigint AS total FROM followup_counts WHERE company_id = $1',
        values: [companyId],
      }),
    ]);
    return { data: page.rows, total: Number(total.rows[0].total) };
  });
  app.get<{ Querystring: { at: string; id: string } }>('/followups/after', async (request) => {
    // One row more than the page tells whether a next page exists, as a cursor page must.
    const { rows } = await db.query({
      name: 'floor-keyset-page',
      text: `SELECT * FROM followups WHERE company_id = $1 AND (activity_at, id) < ($2::timestamptz, $3::bigint)
             ORDER BY activity_at DESC, id DESC LIMIT $4`,
      values: [companyId, request.query.at, request.query.id, PAGE + 1],
    });
    return { data: rows.slice(0, PAGE), more: rows.length > PAGE };
  });
}

async function main(kind: Kind): Promise<void> {
  const app = Fastify({ logger: false });
  let db: pg.Pool | undefined;
  if (kind === 'constant') constantRoutes(app);
  else {
    db = pool();
    const companyId = env('FLOOR_COMPANY_ID');
    if (kind === 'select') selectRoutes(app, db, companyId);
    else if (kind === 'insert') insertRoutes(app, db, companyId);
    else if (kind === 'list') listRoutes(app, db, companyId);
    else throw new Error(`unknown floor kind ${String(kind)}`);
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.send?.({ port: address.port });
  const stop = () => void app.close().then(() => db?.end()).finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  // The bench is gone (it crashed or was killed): a floor never outlives it.
  process.once('disconnect', stop);
}

main(process.argv[2] as Kind).catch((error: unknown) => {
  console.error(`[floor ${process.argv[2]}]`, error);
  process.exit(1);
});
