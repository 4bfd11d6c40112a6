/**
 * `npm run bench`: a benchmark, never a test (nothing here asserts a speed). On one throw-away
 * embedded PostgreSQL, migrated by `relance migrate` and seeded with one company's followups,
 * it measures each scenario of scenarios.ts against Relance (`relance serve`, default settings,
 * `info` logs to a file) and its floors (floor.ts), each server in a process of its own, driven
 * by autocannon in a process of its own (load-child.ts). Targets are measured in rotated rounds
 * (A B C, B C A, C A B…), so a disturbance of the shared machine does not always fall on the
 * same one; the report gives medians, and Relance's ratio to each floor round by round.
 *
 * Settings (environment): BENCH_QUICK=1 (a short run, under 2 minutes), BENCH_ROWS,
 * BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_ROUNDS (≥ 3), BENCH_CONNECTIONS (comma-separated),
 * BENCH_ONLY (parts of scenario names, comma-separated), DATABASE_POOL_SIZE (Relance's and each
 * SQL floor's pool, default 10), BENCH_PROFILE_DIR (Relance's V8 CPU profiles go there).
 * Results: bench/results/latest.{json,md}.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { startEmbedded, type EmbeddedServer } from '../src/db/embedded.js';
import { LoadGenerator, type LoadJob, type LoadRequest, type LoadResult } from './load.js';
import { loadAverage, machine, postgresCpuMs, postmasterPid, processCpuMs, sampleRss } from './proc.js';
import { summarize, text, writeResults, type Measurement, type Report, type ScenarioResult } from './report.js';
import { API, DEPTH, OPERATIONS, ROTATION, type Fixture, type Operation, type TargetKind } from './scenarios.js';
import { seedDebts, seedFollowups } from './seed.js';
import { buildTargets, cli, freePort, relanceEnv, startFloor, startRelance, type Server } from './servers.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const DEBTS = 1_000;
/** Far above anything a run sends, for when per-client rate limits exist (RATE_LIMIT_*). */
const UNLIMITED = '1000000000';
/** Relance's default MAX_REQUESTS_PER_SOCKET: every target's connections are renewed as often. */
const REQUESTS_PER_CONNECTION = 100;

const startedAt = Date.now();
const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);

function number(name: string, fallback: number, min: number, integer = true): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(raw) || value < min) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min} (got "${raw}")`);
  }
  return value;
}

function settings() {
  const quickFlag = process.env.BENCH_QUICK ?? '';
  if (!['', '0', '1'].includes(quickFlag)) throw new Error(`BENCH_QUICK must be 1 or 0 (got "${quickFlag}")`);
  const quick = quickFlag === '1';
  const connections = (process.env.BENCH_CONNECTIONS || (quick ? '64' : '8,64')).split(',').map((part) => {
    if (!/^\d+$/.test(part.trim()) || Number(part) < 1) throw new Error(`BENCH_CONNECTIONS must list integers >= 1 (got "${part}")`);
    return Number(part);
  });
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const operations = OPERATIONS.filter((o) => !only || only.some((part) => o.name.includes(part)));
  if (operations.length === 0) throw new Error(`BENCH_ONLY matched no scenario of: ${OPERATIONS.map((o) => o.name).join('; ')}`);
  return {
    quick,
    rows: number('BENCH_ROWS', quick ? 20_000 : 1_000_000, DEPTH + 100),
    seconds: number('BENCH_SECONDS', quick ? 1 : 5, 0.5, false),
    warmupSeconds: number('BENCH_WARMUP_SECONDS', quick ? 0.5 : 2, 0, false),
    rounds: number('BENCH_ROUNDS', 3, 3),
    connections,
    operations,
    poolSize: number('DATABASE_POOL_SIZE', 10, 1),
  };
}

type Settings = ReturnType<typeof settings>;

const cleanups: Array<() => unknown> = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) await Promise.resolve().then(step).catch((error) => log(`cleanup: ${String(error)}`));
  cleanups.length = 0;
}

/** The server, once started, is stopped by the clean-up. */
async function stopLater(starting: Promise<Server>): Promise<Server> {
  const server = await starting;
  cleanups.push(() => server.stop());
  return server;
}

/** A target under test and what it is sent in a scenario. */
interface Target {
  name: string;
  server: Server;
  requests: LoadRequest[];
}

interface Bench {
  settings: Settings;
  admin: pg.Pool;
  postmaster: number;
  relance: Server;
  floors: Record<Exclude<TargetKind, 'relance'>, Server>;
  load: LoadGenerator;
  fixture: Fixture;
  token: () => Promise<string>;
  /** Seeded followups have ids up to this; rows above were created by a scenario. */
  lastSeededId: string;
}

async function main(): Promise<void> {
  const s = settings();
  const box = machine();
  const loadStart = loadAverage();
  console.log(`Relance bench, ${s.quick ? 'quick' : 'full'} mode: nproc ${box.nproc}, ${box.cpu_model}, ${box.memory_gib} GiB, Node ${box.node}; load average ${loadStart.join(' ')}`);
  if (loadStart[0] > 0.5) log(`warning: load average ${loadStart[0]} before the run: other processes use the CPUs, figures will be noisy`);

  const bench = await prepare(s);
  const results: ScenarioResult[] = [];
  for (const operation of s.operations) {
    for (const connections of s.connections) results.push(await runScenario(bench, operation, connections));
  }

  const { rows: version } = await bench.admin.query<{ server_version: string }>('SHOW server_version');
  const report: Report = {
    date: new Date().toISOString(),
    mode: s.quick ? 'quick' : 'full',
    machine: { ...box, postgresql: version[0]!.server_version },
    load_average_start: loadStart,
    load_average_end: loadAverage(),
    settings: {
      rows: s.rows,
      debts: DEBTS,
      rounds: s.rounds,
      seconds: s.seconds,
      warmup_seconds: s.warmupSeconds,
      connections: s.connections,
      pool_size: s.poolSize,
      requests_per_connection: REQUESTS_PER_CONNECTION,
      relance: 'relance serve (node dist/cli/main.js serve, as npm start runs it), LOG_LEVEL default (info) to a file, WORKER on',
      load_generator: 'autocannon in a child process of its own',
    },
    scenarios: results,
    relance_rss_max_mib: Math.max(...results.flatMap((r) => r.measurements.filter((m) => m.target === 'Relance').map((m) => m.server_rss_max_mib))),
    duration_seconds: (Date.now() - startedAt) / 1000,
  };
  console.log(`\n${text(report)}\n`);
  await writeResults(join(RESULTS, 'latest.json'), join(RESULTS, 'latest.md'), report);
  log(`written to ${join(RESULTS, 'latest.json')} and latest.md`);
}

async function prepare(s: Settings): Promise<Bench> {
  const dir = await mkdtemp(join(tmpdir(), 'relance-bench-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  log('compiling Relance (scripts/build.mjs, as npm start does) and the floors');
  await buildTargets();
  log('starting an embedded PostgreSQL');
  const postgres: EmbeddedServer = await startEmbedded(join(dir, 'postgres'), pino({ level: 'warn' }, pino.destination(2)), { role: 'serve' });
  cleanups.push(() => postgres.stop());
  const postmaster = postmasterPid(join(dir, 'postgres', 'pg'));

  const env = relanceEnv({
    DATABASE_URL: postgres.url,
    RELANCE_SECRET_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: join(dir, 'relance'),
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    DATABASE_POOL_SIZE: String(s.poolSize),
    // One API client drives every connection; Relance's per-client caps (50 requests in flight,
    // hourly rate limits) are a client's limits, not what is measured.
    CLIENT_CONCURRENCY_LIMIT: '100000',
    RATE_LIMIT_READS: UNLIMITED,
    RATE_LIMIT_WRITES: UNLIMITED,
  });
  log('relance migrate, company create, client create');
  await cli(env, 'migrate');
  const company = await cli(env, 'company', 'create', '--name', 'Benchmark company');
  const client = await cli(env, 'client', 'create', '--company', String(company.id), '--scopes', 'followups:read followups:write debts:read', '--name', 'bench');

  const admin = new pg.Pool({ connectionString: postgres.url, max: 2, options: '-c TimeZone=UTC' });
  cleanups.push(() => admin.end());
  const { rows: companies } = await admin.query<{ id: string }>('SELECT id FROM companies');
  if (companies.length !== 1) throw new Error(`expected one company, found ${companies.length}`);
  const companyId = companies[0]!.id;

  // The servers start while the rows go in: none of them reads followups before it is measured.
  const floorEnv = { FLOOR_DATABASE_URL: postgres.url, FLOOR_POOL_SIZE: String(s.poolSize), FLOOR_COMPANY_ID: companyId };
  const servers = Promise.all([
    stopLater(startRelance(env, join(dir, 'relance.log'))),
    stopLater(startFloor('floor: PK SELECT', 'select', floorEnv)),
    stopLater(startFloor('floor: INSERT', 'insert', floorEnv)),
    stopLater(startFloor('floor: page query', 'list', floorEnv)),
  ]);
  let lastSeededId: string;
  try {
    lastSeededId = await seed(admin, companyId, s.rows);
  } finally {
    // Even if seeding failed: every server that started must be known to the clean-up.
    await servers.catch(() => {});
  }
  const [relance, select, insert, list] = await servers;
  log(`Relance listening at ${relance.origin} (pid ${relance.pid})`);
  const token = async () => {
    const body = { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret };
    const answer = await call(relance.origin, { method: 'POST', path: '/token', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }, 200);
    return `Bearer ${(JSON.parse(answer) as { access_token: string }).access_token}`;
  };
  const fixture = await gather(relance.origin, await token(), admin, companyId);

  const constants = join(dir, 'constants.json');
  await writeFile(constants, JSON.stringify(await recordConstants(relance.origin, await token(), fixture)));
  const constant = await stopLater(startFloor('floor: constant', 'constant', { ...floorEnv, FLOOR_CONSTANTS: constants }));
  const floors = { constant, select, insert, list };
  await crossCheck(relance.origin, await token(), floors, fixture);

  const load = new LoadGenerator();
  cleanups.push(() => load.stop());
  return { settings: s, admin, postmaster, relance, floors, load, fixture, token, lastSeededId };
}

/** DEBTS debts and `rows` followups of the company; returns the last seeded followup id. */
async function seed(admin: pg.Pool, companyId: string, rows: number): Promise<string> {
  const started = Date.now();
  const debtIds = await seedDebts(admin, Number(companyId), DEBTS);
  await seedFollowups(admin, {
    companyId: Number(companyId),
    debtIds,
    count: rows,
    progress: (n) => log(`seeded ${n.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} followups`),
  });
  // Fresh statistics and visibility map, as autovacuum would give tables that size in production.
  await admin.query('VACUUM ANALYZE debts, followups, followup_counts');
  await admin.query('CHECKPOINT');
  log(`seeding (indexes, VACUUM ANALYZE included) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const { rows: last } = await admin.query<{ id: string }>('SELECT max(id)::text AS id FROM followups');
  return last[0]!.id;
}

/** One request, outside the measurement: the answer's body, or an error naming what went wrong. */
async function call(origin: string, request: LoadRequest, status: number): Promise<string> {
  const response = await fetch(origin + request.path.replaceAll('[<id>]', randomBytes(8).toString('hex')), {
    method: request.method,
    headers: Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k, v.replaceAll('[<id>]', randomBytes(8).toString('hex'))])),
    body: request.body,
  });
  const body = await response.text();
  if (response.status !== status) {
    throw new Error(`${request.method} ${origin}${request.path} answered ${response.status} instead of ${status}: ${body.slice(0, 500)}`);
  }
  return body;
}

const getJson = async <T>(origin: string, authorization: string, path: string): Promise<T> =>
  JSON.parse(await call(origin, { method: 'GET', path, headers: { authorization } }, 200)) as T;

interface Page {
  data: Array<{ id: string; summary: string }>;
  pagination: { next_cursor?: string | null; total?: number };
}

/**
 * Everything the scenarios need, read through Relance's API as a client would see it (public
 * ids, a real cursor) and matched to internal ids by SQL: the debts, a cursor walk DEPTH rows
 * deep (100 rows a page), whose every tenth row is a followup to get.
 */
async function gather(origin: string, authorization: string, admin: pg.Pool, companyId: string): Promise<Fixture> {
  const publicDebts = new Map<string, string>();
  for (let page = 1; publicDebts.size < DEBTS; page++) {
    const { data } = await getJson<{ data: Array<{ id: string; internal_id: string }> }>(origin, authorization, `${API}/debts?limit=100&page=${page}`);
    if (data.length === 0) break;
    for (const debt of data) publicDebts.set(debt.internal_id, debt.id);
  }
  const { rows: debtRows } = await admin.query<{ id: string; internal_id: string }>('SELECT id::text, internal_id FROM debts WHERE company_id = $1 ORDER BY id', [companyId]);
  const debts = debtRows.map((d) => ({ id: d.id, publicId: publicDebts.get(d.internal_id)! }));
  if (debts.some((d) => !d.publicId)) throw new Error('a seeded debt is missing from GET /debts');

  let token = '';
  const walked: Page['data'] = [];
  while (walked.length < DEPTH) {
    const page = await getJson<Page>(origin, authorization, `${API}/followups?limit=100&cursor=${encodeURIComponent(token)}`);
    if (!page.pagination.next_cursor) throw new Error(`the company holds fewer than ${DEPTH} followups: raise BENCH_ROWS`);
    token = page.pagination.next_cursor;
    walked.push(...page.data);
  }
  const sample = walked.filter((_, i) => i % Math.max(1, Math.floor(DEPTH / ROTATION)) === 0).slice(0, ROTATION);
  const last = walked[DEPTH - 1]!;
  const { rows } = await admin.query<{ id: string; summary: string; at: string }>(
    'SELECT id::text, summary, activity_at::text AS at FROM followups WHERE company_id = $1 AND summary = ANY($2)',
    [companyId, [...sample, last].map((row) => row.summary)],
  );
  const bySummary = new Map(rows.map((row) => [row.summary, row]));
  const internal = (summary: string) => {
    const row = bySummary.get(summary);
    if (!row) throw new Error(`no seeded followup has the summary "${summary}"`);
    return row;
  };
  const lastRow = internal(last.summary);
  return {
    debts,
    followups: sample.map((row) => ({ id: internal(row.summary).id, publicId: row.id })),
    cursor: { token, at: lastRow.at, id: lastRow.id },
  };
}

/** Relance's answer to each operation's first request: what the constant floor sends back. */
async function recordConstants(origin: string, authorization: string, fixture: Fixture) {
  const constants: Record<string, { method: string; status: number; body: string }> = {};
  for (const operation of OPERATIONS) {
    const [first] = operation.requests('relance', fixture);
    const body = await call(origin, { ...first!, headers: { ...first!.headers, authorization } }, operation.status);
    constants[operation.slot] = { method: first!.method, status: operation.status, body };
  }
  return constants;
}

/** The SQL floors answer what Relance answers (same rows, same page), or the bench stops. */
async function crossCheck(origin: string, authorization: string, floors: Bench['floors'], fixture: Fixture): Promise<void> {
  const followup = fixture.followups[0]!;
  const relanceGet = await getJson<{ data: { summary: string } }>(origin, authorization, `${API}/followups/${followup.publicId}`);
  const floorGet = await getJson<{ summary: string }>(floors.select.origin, authorization, `/followups/${followup.id}`);
  const summaries = (page: { data: Array<{ summary: string }> }) => page.data.map((row) => row.summary).join('\n');
  const relanceFirst = await getJson<Page>(origin, authorization, `${API}/followups`);
  const floorFirst = await getJson<Page & { total: number }>(floors.list.origin, authorization, '/followups');
  const [cursorRequest] = OPERATIONS.find((o) => o.slot === 'cursor')!.requests('floor', fixture);
  const relanceDeep = await getJson<Page>(origin, authorization, `${API}/followups?cursor=${encodeURIComponent(fixture.cursor.token)}`);
  const floorDeep = await getJson<Page>(floors.list.origin, authorization, cursorRequest!.path);
  const mismatches = [
    relanceGet.data.summary !== floorGet.summary && 'get: the SELECT floor read another row',
    summaries(relanceFirst) !== summaries(floorFirst) && 'first page: the floor returned other rows',
    relanceFirst.pagination.total !== floorFirst.total && 'first page: the floor counted another total',
    summaries(relanceDeep) !== summaries(floorDeep) && 'cursor page: the floor returned other rows',
    relanceDeep.data.length !== 20 && 'cursor page: not a full page',
  ].filter(Boolean);
  if (mismatches.length > 0) throw new Error(`floors and Relance disagree: ${mismatches.join('; ')}`);
}

/** Rows created by a scenario removed, dead rows vacuumed, statistics fresh, dirty pages written. */
async function resetState(bench: Bench): Promise<void> {
  await bench.admin.query('DELETE FROM followups WHERE id > $1', [bench.lastSeededId]);
  await bench.admin.query('DELETE FROM idempotency_keys');
  await bench.admin.query('VACUUM ANALYZE followups, followup_changes, followup_counts, idempotency_keys');
  await bench.admin.query('CHECKPOINT');
}

function targetsOf(bench: Bench, operation: Operation): Target[] {
  const relance = operation.requests('relance', bench.fixture);
  return [
    { name: bench.relance.name, server: bench.relance, requests: relance },
    { name: bench.floors[operation.floor].name, server: bench.floors[operation.floor], requests: operation.requests('floor', bench.fixture) },
    { name: bench.floors.constant.name, server: bench.floors.constant, requests: relance.map((r) => ({ ...r, path: `/constant/${operation.slot}` })) },
  ];
}

/** Round r runs the targets rotated by r: A B C, B C A, C A B, A B C… */
function rotation<T>(items: T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

async function runScenario(bench: Bench, operation: Operation, connections: number): Promise<ScenarioResult> {
  const name = operation.name;
  log(`${name}, ${connections} connections: resetting state`);
  await resetState(bench);
  const authorization = await bench.token();
  const targets = targetsOf(bench, operation);
  for (const target of targets) await call(target.server.origin, { ...target.requests[0]!, headers: { ...target.requests[0]!.headers, authorization } }, operation.status);

  const measurements: Measurement[] = [];
  const rounds: string[][] = [];
  for (let round = 0; round < bench.settings.rounds; round++) {
    const order = rotation(targets, round);
    rounds.push(order.map((t) => t.name));
    for (const [position, target] of order.entries()) {
      const job: LoadJob = {
        origin: target.server.origin,
        connections,
        seconds: bench.settings.seconds,
        headers: { authorization },
        requests: target.requests,
        idReplacement: operation.idReplacement,
        reconnectEvery: REQUESTS_PER_CONNECTION,
      };
      const m = await measure(bench, target, job);
      measurements.push({ round, position, ...m });
      log(`  round ${round + 1}, ${target.name}: ${Math.round(m.requests_per_second)} req/s, p50 ${m.p50_ms.toFixed(2)} ms, p99 ${m.p99_ms.toFixed(2)} ms, PG ${m.pg_cpu_ms_per_request.toFixed(3)} ms/req`);
    }
  }
  if (operation.writes) await resetState(bench);
  return { name, connections, rounds, measurements, summary: summarize(measurements, targets.map((t) => t.name), bench.relance.name) };
}

/** A run that had any non-2xx answer, error or timeout stops the bench: no ratio over errors. */
function refuseErrors(target: Target, what: string, result: LoadResult): void {
  if (result.non_2xx === 0 && result.errors === 0 && result.timeouts === 0 && result.requests > 0) return;
  throw new Error(
    `${target.name} (${what}): ${result.non_2xx} non-2xx answers (status codes ${JSON.stringify(result.status_codes)}), ` +
      `${result.errors} connection errors, ${result.timeouts} timeouts out of ${result.requests} responses: the bench stops, nothing is reported`,
  );
}

/**
 * One measurement: a checkpoint (so a write run never starts with another's dirty pages to
 * flush), the warm-up (JIT, caches, the pool's connections), then the measured run with CPU
 * read from /proc before and after, and the server's RSS sampled throughout.
 */
async function measure(bench: Bench, target: Target, job: LoadJob): Promise<Omit<Measurement, 'round' | 'position'>> {
  await bench.admin.query('CHECKPOINT');
  let warmupRequests = 0;
  if (bench.settings.warmupSeconds > 0) {
    const warmup = await bench.load.run({ ...job, seconds: bench.settings.warmupSeconds });
    refuseErrors(target, 'warm-up', warmup);
    warmupRequests = warmup.requests;
  }
  const pid = target.server.pid;
  const before = { pg: postgresCpuMs(bench.postmaster), server: processCpuMs(pid), load: processCpuMs(bench.load.pid) };
  const rss = sampleRss(pid);
  const result = await bench.load.run(job);
  const after = { pg: postgresCpuMs(bench.postmaster), server: processCpuMs(pid), load: processCpuMs(bench.load.pid) };
  const rssMax = rss.stop();
  refuseErrors(target, 'measured run', result);
  const perRequest = (ms: number) => ms / result.requests;
  return {
    target: target.name,
    requests: result.requests,
    seconds: result.seconds,
    requests_per_second: result.requests / result.seconds,
    p50_ms: result.p50_ms,
    p90_ms: result.p90_ms,
    p99_ms: result.p99_ms,
    mean_ms: result.mean_ms,
    pg_cpu_ms_per_request: perRequest(after.pg - before.pg),
    server_cpu_ms_per_request: perRequest(after.server - before.server),
    load_generator_cpu_ms_per_request: perRequest(after.load - before.load),
    server_rss_max_mib: rssMax,
    load_average_1m: loadAverage()[0],
    warmup_requests: warmupRequests,
  };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .then(cleanup)
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    console.error(`[bench] FAILED: ${(error as Error)?.stack ?? String(error)}`);
    await cleanup();
    process.exit(1);
  });
