/**
 * `npm run bench`: a benchmark, never a test. Starts Relance on a fresh embedded PostgreSQL in a
 * temporary DATA_DIR, seeds one company, then measures every scenario of scenarios.ts with
 * autocannon against Relance and against its two floors (bare Fastify routes on a second
 * server in this process: a constant body, and the scenario's SQL), prints the table and writes
 * it to bench/results/latest.json.
 *
 * Settings (environment): BENCH_SECONDS (per measurement, default 10), BENCH_WARMUP_SECONDS
 * (default 3), BENCH_CONNECTIONS (default 64), BENCH_ROWS (seeded followups, default 1,000,000),
 * BENCH_ONLY (comma-separated parts of scenario names, default all), DATABASE_POOL_SIZE.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { createClient } from '../src/auth/client-service.js';
import { SCOPES } from '../src/auth/scopes.js';
import { insertCompany } from '../src/companies/repository.js';
import { defaultHttpLimits, loadConfig } from '../src/config.js';
import { startEmbedded } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { IdCodec } from '../src/security/encrypted-id.js';
import { deriveKeys, type Keys } from '../src/security/keys.js';
import { LocalBlobStore } from '../src/storage/local-store.js';
import { measure, type LoadOptions, type LoadRequest } from './load.js';
import { machine, markdown, ratio, writeJson, type Report, type ScenarioResult } from './report.js';
import { SCENARIOS, type Fixture, type Scenario } from './scenarios.js';
import { sampleFollowupIds, seedDebts, seedFollowups } from './seed.js';

const RESULTS_FILE = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const DEBTS = 1_000;
const SAMPLED_FOLLOWUPS = 1_000;

function setting(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} must be an integer >= ${min} (got "${raw}")`);
  return Number(raw);
}

const load: LoadOptions = {
  seconds: setting('BENCH_SECONDS', 10, 1),
  warmupSeconds: setting('BENCH_WARMUP_SECONDS', 3, 0),
  connections: setting('BENCH_CONNECTIONS', 64, 1),
};
const rows = setting('BENCH_ROWS', 1_000_000, 1_000);
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);

const log = (message: string) => console.log(`[bench] ${message}`);
const slug = (name: string) => name.replace(/\W+/g, '-');

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) await step().catch(() => {});
  cleanups.length = 0;
}

type Auth = { authorization: string };

async function main(): Promise<number> {
  const loadBefore = loadavg()[0]!;
  if (loadBefore > 1) log(`warning: load average ${loadBefore.toFixed(2)} before the run: other processes compete for the CPUs`);
  const definitions = SCENARIOS.filter((s) => !only || only.some((o) => s.name.includes(o)));
  if (definitions.length === 0) throw new Error(`BENCH_ONLY matched no scenario of: ${SCENARIOS.map((s) => s.name).join('; ')}`);

  const relance = await startRelance();
  const { fixture, auth } = await seed(relance);
  const scenarios: Scenario[] = [];
  for (const definition of definitions) scenarios.push({ name: definition.name, ...(await definition.prepare(fixture)) });
  const floorOrigin = await startFloor(scenarios, relance.origin, auth);

  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await measureScenario(scenario, relance.origin, floorOrigin, auth));

  const report: Report = {
    date: new Date().toISOString(),
    machine: machine(relance.postgresVersion),
    settings: {
      connections: load.connections,
      seconds: load.seconds,
      warmup_seconds: load.warmupSeconds,
      seeded_followups: rows,
      load_average_before: Math.round(loadBefore * 100) / 100,
      load_generator: 'autocannon in a worker thread of the process that serves Relance and the floors',
    },
    scenarios: results,
  };
  console.log(`\n${markdown(report)}\n`);
  await writeJson(RESULTS_FILE, report);
  log(`written to ${RESULTS_FILE}`);

  const failures = results.flatMap((r) => [['Relance', r.relance], ['constant floor', r.floors.constant], ['SQL floor', r.floors.sql]] as const)
    .filter(([, m]) => m.non_2xx > 0 || m.errors > 0);
  for (const [server, m] of failures) console.error(`[bench] ${server}: ${m.non_2xx} non-2xx responses, ${m.errors} errors/timeouts`);
  return failures.length > 0 ? 1 : 0;
}

interface Relance {
  origin: string;
  pool: Pool;
  /** A second pool with the same settings, for the floor server. */
  floorPool: Pool;
  keys: Keys;
  postgresVersion: string;
}

/** A fresh embedded PostgreSQL in a temporary DATA_DIR, migrated, and Relance listening on it. */
async function startRelance(): Promise<Relance> {
  const dataDir = await mkdtemp(join(tmpdir(), 'relance-bench-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const server = await startEmbedded(dataDir, pino({ level: 'warn' }));
  cleanups.push(() => server.stop());
  // Both servers get a pool sized like `relance serve`'s (DATABASE_POOL_SIZE, default 10).
  const poolSize = loadConfig({ DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE }).databasePoolSize;
  const pool = createPool(server.url, poolSize);
  const floorPool = createPool(server.url, poolSize);
  cleanups.push(() => pool.end(), () => floorPool.end());
  await migrate(pool);
  const { rows: version } = await pool.query<{ server_version: string }>('SHOW server_version');

  const keys = deriveKeys(randomBytes(32));
  // Request logs are written at info level: the benchmark measures the service, not the log sink.
  // Every connection uses one client's token: the per-client concurrency cap (a 429 past it) is
  // not what is measured, so it is set above the number of connections. autocannon keeps sending
  // on a connection the server asked it to close (HTTP clients such as undici reconnect), so the
  // per-connection request cap is lifted too.
  const http = { ...defaultHttpLimits(), clientConcurrency: 10_000, maxRequestsPerSocket: 0 };
  const storage = new LocalBlobStore({ dir: join(dataDir, 'media'), publicUrl: 'http://127.0.0.1', signingKey: keys.media });
  const app = await buildApp({ pool, keys, logger: pino({ level: 'warn' }), http, storage });
  cleanups.push(() => app.close());
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  return { origin, pool, floorPool, keys, postgresVersion: version[0]!.server_version };
}

/** One company with an API client and its token, DEBTS debts and `rows` followups. */
async function seed({ origin, pool, floorPool, keys }: Relance): Promise<{ fixture: Fixture; auth: Auth }> {
  const company = await insertCompany('Benchmark company', pool);
  const client = await createClient(company.id, { scopes: [...SCOPES] }, keys.secrets, pool);
  const token = await check(origin, {}, {
    method: 'POST',
    path: '/token',
    body: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret },
  }, 200, 'Relance');
  const auth = { authorization: `Bearer ${(JSON.parse(token) as { access_token: string }).access_token}` };

  const started = Date.now();
  const debtIds = await seedDebts(pool, company.id, DEBTS);
  await seedFollowups(pool, {
    companyId: company.id,
    debtIds,
    count: rows,
    progress: (n) => log(`seeded ${n.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} followups`),
  });
  // Fresh statistics and visibility map, as autovacuum would give a table that size in production.
  await pool.query('VACUUM ANALYZE debts, followups');
  log(`seeding (indexes and VACUUM ANALYZE included) took ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const fixture: Fixture = {
    get: async (path) => JSON.parse(await check(origin, auth, { method: 'GET', path }, 200, 'Relance')),
    pool: floorPool,
    ids: new IdCodec(keys.ids),
    companyId: company.id,
    source: `api:${client.client_id}`,
    debtIds,
    followupIds: await sampleFollowupIds(pool, company.id, SAMPLED_FOLLOWUPS),
  };
  return { fixture, auth };
}

/**
 * The floors: bare Fastify (no logger, auth, validation or response schema) on a second port.
 * The constant route answers with Relance's own response to the scenario's first request,
 * recorded here, so both send the same bytes.
 */
async function startFloor(scenarios: Scenario[], relanceOrigin: string, auth: Auth): Promise<string> {
  const floor: FastifyInstance = Fastify({ logger: false });
  cleanups.push(() => floor.close());
  for (const scenario of scenarios) {
    const body = await check(relanceOrigin, auth, scenario.relance[0]!, scenario.status, 'Relance');
    floor.route({
      method: scenario.method,
      url: `/constant/${slug(scenario.name)}`,
      handler: async (_request, reply) => reply.code(scenario.status).type('application/json; charset=utf-8').send(body),
    });
    floor.route({
      method: scenario.method,
      url: scenario.sqlFloor.url,
      handler: async (request, reply) => reply.code(scenario.status).send(await scenario.sqlFloor.handler(request)),
    });
  }
  const origin = await floor.listen({ host: '127.0.0.1', port: 0 });
  for (const scenario of scenarios) await check(origin, {}, scenario.sqlFloor.requests[0]!, scenario.status, 'the SQL floor');
  return origin;
}

async function measureScenario(scenario: Scenario, relanceOrigin: string, floorOrigin: string, auth: Auth): Promise<ScenarioResult> {
  const uniqueIds = scenario.uniqueIds ?? false;
  log(`${scenario.name}: floor with a constant body`);
  const constantRequest = { ...scenario.relance[0]!, path: `/constant/${slug(scenario.name)}` };
  const constant = await measure({ origin: floorOrigin, headers: {}, requests: [constantRequest], uniqueIds }, load);
  log(`${scenario.name}: floor with the same SQL`);
  const sql = await measure({ origin: floorOrigin, headers: {}, requests: scenario.sqlFloor.requests, uniqueIds }, load);
  log(`${scenario.name}: Relance`);
  const relance = await measure({ origin: relanceOrigin, headers: auth, requests: scenario.relance, uniqueIds }, load);
  return { name: scenario.name, relance, floors: { constant, sql }, ratios: { constant: ratio(relance, constant), sql: ratio(relance, sql) } };
}

/** One request before the run, so a broken scenario fails loudly instead of measuring errors. */
async function check(origin: string, headers: Record<string, string>, request: LoadRequest, status: number, what: string): Promise<string> {
  const response = await fetch(origin + request.path, {
    method: request.method,
    headers: { ...headers, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(`${request.method} ${request.path} on ${what} answered ${response.status} instead of ${status}: ${text.slice(0, 500)}`);
  }
  return text;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench] ${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (error) => {
    console.error(error);
    await cleanup();
    process.exit(1);
  });
