import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from '../../src/config.js';
import { formatTimestamp } from '../../src/time/timestamp.js';
import { GENEROUS_RATE_LIMITS } from './setup.js';

/** Any response: light-my-request's, or fetch's over a real socket. */
type AnyResponse = LightMyRequestResponse | { status: number; headers: Headers; body: unknown };

/** The API's default budgets (RATE_LIMIT_READS, RATE_LIMIT_WRITES), with token endpoints tests do not reach by accident. */
export const API_DEFAULTS: RateLimitSettings = { ...DEFAULT_RATE_LIMITS, token: GENEROUS_RATE_LIMITS.token };

export interface BudgetHeaders {
  limit: number;
  remaining: number;
  reset: number;
  window: number;
}

function header(response: AnyResponse, name: string): string | undefined {
  if (response.headers instanceof Headers) return response.headers.get(name) ?? undefined;
  const value = (response as LightMyRequestResponse).headers[name];
  return value === undefined ? undefined : String(value);
}

function status(response: AnyResponse): number {
  return 'statusCode' in response ? response.statusCode : response.status;
}

/** The four X-RateLimit-* headers as numbers, or undefined when the response has none of them. */
export function budgetOf(response: AnyResponse): BudgetHeaders | undefined {
  const names = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-window'];
  const values = names.map((name) => header(response, name));
  if (values.every((value) => value === undefined)) return undefined;
  for (const [i, value] of values.entries()) assert.match(String(value), /^\d+$/, `${names[i]}: ${value}`);
  const [limit, remaining, reset, window] = values.map(Number) as [number, number, number, number];
  return { limit, remaining, reset, window };
}

/** The budget headers, which must be there. */
export function budget(response: AnyResponse): BudgetHeaders {
  const found = budgetOf(response);
  assert.ok(found, `no X-RateLimit-* headers on a ${status(response)}`);
  return found;
}

/**
 * A window's end, as X-RateLimit-Reset gives it: aligned on the window's length and, for a
 * response received between `before` and `after` (ms), the end of the window holding that time.
 */
export function assertWindowEnd(reset: number, window: number, before: number, after: number): void {
  assert.equal(reset % window, 0, `X-RateLimit-Reset ${reset} is not aligned on ${window} s`);
  assert.ok(reset * 1000 > before - 1000 && (reset - window) * 1000 <= after, `window ending ${reset} does not hold [${before}, ${after}]`);
}

/**
 * A 429 of a spent API budget, exactly as SPEC §10 gives it: Retry-After the seconds left in the
 * window (counted from a moment between `before` and `after`), the same in the body, the
 * window's end as reset_time, Remaining 0.
 */
export function assertApiRateLimited(response: LightMyRequestResponse, limit: number, window: number, before: number, after: number): void {
  assert.equal(response.statusCode, 429, response.body);
  const { reset, remaining, limit: shown, window: shownWindow } = budget(response);
  assert.deepEqual({ remaining, shown, shownWindow }, { remaining: 0, shown: limit, shownWindow: window });
  assertWindowEnd(reset, window, before, after);
  const retryAfter = Number(response.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= window, `Retry-After ${response.headers['retry-after']}`);
  // retry_after = ceil(reset - t) for the moment t the request was counted, within [before, after].
  assert.ok(reset - retryAfter <= after / 1000 && reset - retryAfter > before / 1000 - 1, `Retry-After ${retryAfter} for a reset at ${reset}`);
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(response.json(), {
    error: true,
    message: 'Rate limit exceeded. Please try again later.',
    code: 429,
    details: { retry_after: retryAfter, limit, reset_time: formatTimestamp(new Date(reset * 1000)) },
  });
}

/** How many responses had each status: `{200: 10, 429: 15}`. */
export function statusCounts(responses: readonly AnyResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const response of responses) counts[status(response)] = (counts[status(response)] ?? 0) + 1;
  return counts;
}

/** The numbers 0 … n - 1: the Remaining values n counted requests of a budget of n must show, each once. */
export function countdown(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Windows are fixed and aligned on the clock (an hour's start at every hh:00:00): a test that
 * counts requests across a window's end would see its counts start again mid-test. Waits, if
 * need be, until the current window of `windowSeconds` has at least `needMs` left.
 */
export async function roomInWindow(windowSeconds: number, needMs: number): Promise<void> {
  const left = windowSeconds * 1000 - (Date.now() % (windowSeconds * 1000));
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
