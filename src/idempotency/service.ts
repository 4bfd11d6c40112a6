import { createHash } from 'node:crypto';
import { transaction, type Pool, type Queryable } from '../db/pool.js';
import { errors } from '../http/errors.js';
import { claimKey, findResponse, storeResponse } from './repository.js';

export interface WriteResult {
  status: number;
  /** The response body, serialized: it is stored and replayed byte for byte. */
  body: string;
  replayed?: boolean;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, checked: at most 255 visible ASCII characters (no spaces). */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !KEY.test(header)) {
    throw errors.validation({ 'Idempotency-Key': 'Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces), sent once' });
  }
  return header;
}

/**
 * Runs a write at most once per key: the key is claimed, the write done and its response stored
 * in one transaction. A retry with the same key and body gets the stored response; the same key
 * with another body is refused with 422. A failed write stores nothing, so it can be retried.
 */
export async function idempotent(
  pool: Pool,
  companyId: number,
  key: string | undefined,
  request: { method: string; route: string; body: unknown },
  write: (db: Queryable) => Promise<WriteResult>,
): Promise<WriteResult> {
  if (key === undefined) return write(pool);
  const hash = createHash('sha256').update(`${request.method} ${request.route}\n${canonicalJson(request.body)}`).digest();
  return transaction(pool, async (tx) => {
    if (await claimKey(companyId, key, hash, tx)) {
      const result = await write(tx);
      await storeResponse(companyId, key, result.status, result.body, tx);
      return result;
    }
    const stored = await findResponse(companyId, key, tx);
    if (!stored || stored.status_code === null || !stored.request_hash.equals(hash)) {
      throw errors.idempotencyKeyReused();
    }
    return { status: stored.status_code, body: stored.response, replayed: true };
  });
}

/**
 * JSON with object keys sorted, so that key order does not make two bodies differ. Recursive:
 * bodies reach it only through the JSON parser, which refuses nesting beyond MAX_JSON_DEPTH.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
