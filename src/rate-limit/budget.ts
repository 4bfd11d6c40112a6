import type { FastifyReply } from 'fastify';
import { formatTimestamp } from '../time/timestamp.js';
import type { Hit } from './counter-store.js';

/** The budgets a request is counted against: a client's API reads, its writes, or the token endpoints. */
export type Bucket = 'read' | 'write' | 'token';

/** The four headers of SPEC §10, on every response counted against a budget. */
export function setBudgetHeaders(reply: FastifyReply, limit: number, hit: Hit, windowSeconds: number): void {
  reply
    .header('X-RateLimit-Limit', String(limit))
    .header('X-RateLimit-Remaining', String(remaining(limit, hit)))
    .header('X-RateLimit-Reset', String(hit.resetAt))
    .header('X-RateLimit-Window', String(windowSeconds));
}

export function remaining(limit: number, hit: Hit): number {
  return Math.max(0, limit - hit.count);
}

/** Whole seconds until the window ends, at least 1 (a Retry-After of 0 invites an immediate retry that fails). */
export function retryAfter(hit: Hit): number {
  return Math.max(1, Math.ceil((hit.resetAt * 1000 - hit.nowMs) / 1000));
}

/** The window's end in the API's timestamp format. */
export function resetTime(hit: Hit): string {
  return formatTimestamp(new Date(hit.resetAt * 1000));
}
