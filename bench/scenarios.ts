/**
 * What is measured: each scenario is one Relance operation, the same operation on its SQL floor
 * (floor.ts), and Relance's recorded response on the constant floor, each target with the
 * requests it understands. Every target gets the same headers (the bearer token included), so
 * the bytes each server parses are alike.
 */
import type { LoadRequest } from './load.js';

export const API = '/external-api/v1';
/** Ids a get cycles through: enough that concurrent connections rarely read one row at once. */
export const ROTATION = 1_000;
/** How deep the cursor page is (rows before it, newest activity first). */
export const DEPTH = 10_000;

/** What the scenarios are built from, gathered through Relance's API after seeding (run.ts). */
export interface Fixture {
  /** Debts of the benchmark company: internal id (for the floor) and public id (for Relance). */
  debts: Array<{ id: string; publicId: string }>;
  /** Seeded followups spread over the table, both ids. */
  followups: Array<{ id: string; publicId: string }>;
  /** The cursor Relance gave after row DEPTH, and that row's keyset for the floor. */
  cursor: { token: string; at: string; id: string };
}

export type TargetKind = 'relance' | 'constant' | 'select' | 'insert' | 'list';

export interface Operation {
  /** Short name, also the constant floor's slot. */
  slot: string;
  name: string;
  /** The status every response must have. */
  status: number;
  /** The SQL floor this operation is compared with. */
  floor: Exclude<TargetKind, 'relance' | 'constant'>;
  /** Replace `[<id>]` with a fresh id in every request (one Idempotency-Key per request). */
  idReplacement: boolean;
  /** Writes: rows are removed after the scenario. */
  writes: boolean;
  requests(kind: 'relance' | 'floor', fixture: Fixture): LoadRequest[];
}

const CREATE_FIELDS = {
  type: 'call',
  status: 'scheduled',
  scheduled_at: '2024-01-25T10:00:00Z',
  summary: 'Follow-up call to discuss payment plan',
  notes: 'Customer previously expressed interest in monthly payment schedule',
} as const;

const JSON_HEADERS = { 'content-type': 'application/json' };

function creates(fixture: Fixture, kind: 'relance' | 'floor', headers: Record<string, string>): LoadRequest[] {
  return fixture.debts.map((debt) => ({
    method: 'POST' as const,
    path: kind === 'relance' ? `${API}/followups` : '/followups',
    headers: { ...JSON_HEADERS, ...headers },
    body: JSON.stringify({ debt_id: kind === 'relance' ? debt.publicId : debt.id, ...CREATE_FIELDS }),
  }));
}

export const OPERATIONS: Operation[] = [
  {
    slot: 'get',
    name: 'get followup',
    status: 200,
    floor: 'select',
    idReplacement: false,
    writes: false,
    requests: (kind, f) =>
      f.followups.map((row) => ({ method: 'GET', path: kind === 'relance' ? `${API}/followups/${row.publicId}` : `/followups/${row.id}` })),
  },
  {
    slot: 'create',
    name: 'create followup',
    status: 201,
    floor: 'insert',
    idReplacement: false,
    writes: true,
    requests: (kind, f) => creates(f, kind, {}),
  },
  {
    slot: 'create-idempotent',
    name: 'create followup with Idempotency-Key',
    status: 201,
    floor: 'insert',
    idReplacement: true,
    writes: true,
    // A fresh key per request (autocannon's id replacement); the floor gets the header too and ignores it.
    requests: (kind, f) => creates(f, kind, { 'idempotency-key': 'bench-[<id>]' }),
  },
  {
    slot: 'list',
    name: 'list followups, first page',
    status: 200,
    floor: 'list',
    idReplacement: false,
    writes: false,
    requests: (kind) => [{ method: 'GET', path: kind === 'relance' ? `${API}/followups` : '/followups' }],
  },
  {
    slot: 'cursor',
    name: `list followups, cursor page ${DEPTH.toLocaleString('en-US')} rows deep`,
    status: 200,
    floor: 'list',
    idReplacement: false,
    writes: false,
    requests: (kind, f) => [
      kind === 'relance'
        ? { method: 'GET', path: `${API}/followups?cursor=${encodeURIComponent(f.cursor.token)}` }
        : { method: 'GET', path: `/followups/after?at=${encodeURIComponent(f.cursor.at)}&id=${f.cursor.id}` },
    ],
  },
];
