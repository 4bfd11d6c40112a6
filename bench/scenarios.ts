import type { FastifyRequest } from 'fastify';
import { API_PREFIX } from '../src/app.js';
import type { Pool } from '../src/db/pool.js';
import { countFollowups, listFollowups, type FollowupFilters, type Keyset, type ListOrder } from '../src/followups/list-repository.js';
import { findFollowup, insertFollowup, updateFollowup, type FollowupValues } from '../src/followups/repository.js';
import type { IdCodec } from '../src/security/encrypted-id.js';
import type { LoadRequest, Method } from './load.js';

/** What the scenarios may use: one seeded company, reached through Relance and directly. */
export interface Fixture {
  /** The pool of the floor server (same settings as Relance's own). */
  pool: Pool;
  ids: IdCodec;
  companyId: number;
  /** History source of Relance's writes with the benchmark's token (`api:<client_id>`). */
  source: string;
  /** Internal ids of the company's debts. */
  debtIds: number[];
  /** Internal ids of existing followups of the company, spread over the table. */
  followupIds: number[];
  /** A GET on Relance's API with the benchmark's token; returns the parsed JSON body. */
  get(path: string): Promise<unknown>;
}

/**
 * One benchmarked operation. Relance serves `relance`; the floor server serves the same
 * operation twice more, as bare Fastify routes without auth, validation or response schema:
 * once returning Relance's recorded response as a constant, once running the operation's
 * single SQL statement (through the same repository function Relance calls).
 */
export interface Scenario {
  name: string;
  method: Method;
  /** Status of every Relance response; the first one is checked before the run. */
  status: number;
  /** Requests under the API prefix; each connection cycles through the list. */
  relance: LoadRequest[];
  /** Replace `[<id>]` in every request with a fresh unique id (autocannon's idReplacement). */
  uniqueIds?: boolean;
  sqlFloor: {
    /** Fastify route URL on the floor server, with params; `requests` must match it. */
    url: string;
    requests: LoadRequest[];
    handler: (request: FastifyRequest) => Promise<unknown>;
  };
}

export interface ScenarioDefinition {
  name: string;
  /** Builds the requests (and whatever state they need) once the company is seeded. */
  prepare(fixture: Fixture): Promise<Omit<Scenario, 'name'>>;
}

/** Enough distinct ids that concurrent connections rarely read the same row at once. */
const ROTATION = 1_000;

const CREATE_BODY = {
  type: 'call',
  status: 'scheduled',
  scheduled_at: '2024-01-25T10:00:00Z',
  summary: 'Follow-up call to discuss payment plan',
  notes: 'Customer previously expressed interest in monthly payment schedule',
} as const;

/** CREATE_BODY as the create route stores it (defaults applied, timestamps parsed). */
const CREATE_VALUES: FollowupValues = {
  type: 'call',
  status: 'scheduled',
  call_date: null,
  scheduled_at: new Date('2024-01-25T10:00:00Z'),
  summary: CREATE_BODY.summary,
  notes: CREATE_BODY.notes,
  call_id: null,
  audio_url: null,
  duration_ms: null,
  phone_number_used: null,
  direction: null,
  disconnection_reason: null,
  is_retry: false,
};

/**
 * One request per row id, the same on both sides: Relance's route (`relancePath`) and the floor's
 * (`/sql/<floor>/:id`), whose handler runs the SQL with the id from the path.
 */
function perRow(
  method: Method,
  status: number,
  ids: number[],
  relancePath: (id: number) => string,
  floor: string,
  handler: (id: number, body: unknown) => Promise<unknown>,
  body?: object,
): Omit<Scenario, 'name'> {
  return {
    method,
    status,
    relance: ids.map((id) => ({ method, path: `${API_PREFIX}${relancePath(id)}`, ...(body && { body }) })),
    sqlFloor: {
      url: `/sql/${floor}/:id`,
      requests: ids.map((id) => ({ method, path: `/sql/${floor}/${id}`, ...(body && { body }) })),
      handler: async (request) => handler(Number((request.params as { id: string }).id), request.body),
    },
  };
}

const createFollowupScenario: ScenarioDefinition = {
  name: 'create followup',
  prepare: async (f) => {
    const scenario = perRow('POST', 201, f.debtIds.slice(0, ROTATION), () => '/followups', 'create-followup',
      (debtId) => insertFollowup(f.companyId, debtId, CREATE_VALUES, f.source, f.pool), CREATE_BODY);
    // Relance is told the debt in the body (encrypted), the floor in the path.
    scenario.relance = f.debtIds.slice(0, ROTATION).map((id) => ({
      method: 'POST', path: `${API_PREFIX}/followups`, body: { debt_id: f.ids.encode('debt', id), ...CREATE_BODY },
    }));
    return scenario;
  },
};

const getFollowupScenario: ScenarioDefinition = {
  name: 'get followup',
  prepare: async (f) => perRow('GET', 200, f.followupIds.slice(0, ROTATION), (id) => `/followups/${f.ids.encode('followup', id)}`, 'get-followup',
    (id) => findFollowup(f.companyId, id, f.pool)),
};

/**
 * The same read of followups that have a stored recording: GET signs a fresh URL for each (the
 * local driver's HMAC), the cost issue 9 put on the hot path. Other rows than the plain get's.
 */
const getRecordedFollowupScenario: ScenarioDefinition = {
  name: 'get followup (with recording)',
  prepare: async (f) => {
    const { rows } = await f.pool.query<{ id: number }>(
      `UPDATE followups SET audio_key = 'audio/' || substr(md5(id::text), 1, 22), audio_content_type = 'audio/mpeg', audio_size = 48000,
              recording_state = 'stored'
       WHERE id IN (SELECT id FROM followups WHERE company_id = $1 AND NOT (id = ANY($2::bigint[])) ORDER BY id DESC LIMIT $3)
       RETURNING id`,
      [f.companyId, f.followupIds, ROTATION],
    );
    return perRow('GET', 200, rows.map((r) => Number(r.id)), (id) => `/followups/${f.ids.encode('followup', id)}`, 'get-recorded-followup',
      (id) => findFollowup(f.companyId, id, f.pool));
  },
};

/** A call that ends: the summary differs on every request, so every update changes the row. */
const UPDATE_BODY = { status: 'no_answer', summary: 'Call ended without an answer ([<id>])' } as const;

const updateFollowupScenario: ScenarioDefinition = {
  name: 'update followup',
  prepare: async (f) => ({
    ...perRow('PUT', 200, f.followupIds.slice(0, ROTATION), (id) => `/followups/${f.ids.encode('followup', id)}`, 'update-followup', (id, body) => {
      const { status, summary } = body as typeof UPDATE_BODY;
      return updateFollowup(f.companyId, id, { status, summary }, f.source, f.pool);
    }, UPDATE_BODY),
    uniqueIds: true,
  }),
};

const NEWEST_FIRST: ListOrder = { column: 'activity_at', descending: true };
const PAGE = 20;

const listFollowupsScenario: ScenarioDefinition = {
  name: 'list followups (status filter, first page)',
  prepare: async (f) => {
    const filters: FollowupFilters = { statuses: ['no_answer'] };
    return {
      method: 'GET',
      status: 200,
      relance: [{ method: 'GET', path: `${API_PREFIX}/followups?status=no_answer` }],
      sqlFloor: {
        url: '/sql/list-followups',
        requests: [{ method: 'GET', path: '/sql/list-followups' }],
        // A page with its total: the two statements the route runs, side by side as it does.
        handler: async () => {
          const [rows, total] = await Promise.all([
            listFollowups(f.companyId, filters, NEWEST_FIRST, { limit: PAGE, offset: 0 }, f.pool),
            countFollowups(f.companyId, filters, f.pool),
          ]);
          return { rows: rows.slice(0, PAGE), total };
        },
      },
    };
  },
};

const DEPTH = 10_000;

const deepCursorPageScenario: ScenarioDefinition = {
  name: `cursor page ${DEPTH.toLocaleString('en-US')} rows deep`,
  prepare: async (f) => {
    // Walk to row DEPTH through the API itself, 100 rows a page, to get a real cursor.
    let cursor = '';
    let lastId: string | undefined;
    for (let seen = 0; seen < DEPTH; seen += 100) {
      const page = (await f.get(`${API_PREFIX}/followups?limit=100&cursor=${encodeURIComponent(cursor)}`)) as {
        data: Array<{ id: string }>;
        pagination: { next_cursor: string | null };
      };
      if (!page.pagination.next_cursor) throw new Error(`the company holds fewer than ${DEPTH} followups: raise BENCH_ROWS`);
      cursor = page.pagination.next_cursor;
      lastId = page.data.at(-1)?.id;
    }
    // The floor continues after the same row, found by offset.
    const [last] = await listFollowups(f.companyId, {}, NEWEST_FIRST, { limit: 1, offset: DEPTH - 1 }, f.pool);
    if (!last || f.ids.encode('followup', last.id) !== lastId) throw new Error(`row ${DEPTH} differs between the API and the floor`);
    const after: Keyset = { key: last.sort_key, id: last.id };
    return {
      method: 'GET',
      status: 200,
      relance: [{ method: 'GET', path: `${API_PREFIX}/followups?cursor=${encodeURIComponent(cursor)}` }],
      sqlFloor: {
        url: '/sql/cursor-page',
        requests: [{ method: 'GET', path: '/sql/cursor-page' }],
        handler: async () => (await listFollowups(f.companyId, {}, NEWEST_FIRST, { limit: PAGE, after }, f.pool)).slice(0, PAGE),
      },
    };
  },
};

/** The benchmark, in order. Add a scenario by writing its definition and listing it here. */
export const SCENARIOS: ScenarioDefinition[] = [
  createFollowupScenario,
  getFollowupScenario,
  getRecordedFollowupScenario,
  updateFollowupScenario,
  listFollowupsScenario,
  deepCursorPageScenario,
];
