import type { Response, TestContext } from './setup.js';
import { API, body } from './setup.js';

/** The request headers that authenticate a caller: a tenant's `auth`, or `{}` for none. */
export type Auth = Record<string, string>;

/** Sends `payload` as JSON to `path` under the API, as `auth`, with any further `headers`. */
export function sendJson(
  ctx: TestContext, method: 'POST' | 'PUT' | 'PATCH', path: string, auth: Auth, payload: unknown, headers: Record<string, string> = {},
): Promise<Response> {
  return ctx.app.inject({ method, url: `${API}${path}`, headers: { ...auth, ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
}

/** The data object of a create's response, or an error saying that `what` failed, with the status and body. */
export function createdData(response: Response, what: string): any {
  if (response.statusCode !== 201) throw new Error(`${what} failed: ${response.statusCode} ${response.body}`);
  return body(response).data;
}
