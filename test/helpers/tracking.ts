import type { TestContext } from './setup.js';
import { API, body } from './setup.js';

type Auth = { authorization: string };

/** Thin request helpers for the tracking endpoints and the tracked URLs. */
export function trackingClient(ctx: TestContext) {
  const json = (method: 'POST' | 'GET', url: string, auth: Auth, payload?: unknown) => ctx.app.inject({
    method, url: `${API}${url}`, headers: { ...auth, ...(payload !== undefined && { 'content-type': 'application/json' }) },
    ...(payload !== undefined && { payload: JSON.stringify(payload) }),
  });
  /** The path of a tracked URL (`/t/…`), for inject. */
  const path = (url: string) => new URL(url).pathname;
  return {
    link: (auth: Auth, id: string, payload: unknown) => json('POST', `/followups/${id}/tracking-links`, auth, payload),
    async linkUrl(auth: Auth, id: string, url: string): Promise<string> {
      const response = await json('POST', `/followups/${id}/tracking-links`, auth, { url });
      if (response.statusCode !== 201) throw new Error(`tracking link failed: ${response.body}`);
      return body(response).data.url;
    },
    pixel: (auth: Auth, id: string) => json('GET', `/followups/${id}/tracking-pixel`, auth),
    async pixelUrl(auth: Auth, id: string): Promise<string> {
      const response = await json('GET', `/followups/${id}/tracking-pixel`, auth);
      if (response.statusCode !== 200) throw new Error(`tracking pixel failed: ${response.body}`);
      return body(response).data.url;
    },
    event: (auth: Auth, id: string, payload: unknown) => json('POST', `/followups/${id}/events`, auth, payload),
    events: (auth: Auth, id: string, query = '') => json('GET', `/followups/${id}/tracking-events?${query}`, auth),
    /** A new company's email followup with this status, made through the API. */
    async emailFollowup(status = 'sent') {
      const tenant = await ctx.tenant();
      const created = await ctx.app.inject({
        method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: await tenant.debt(), type: 'email', status },
      });
      if (created.statusCode !== 201) throw new Error(`followup create failed: ${created.body}`);
      return { tenant, id: body(created).data.id as string };
    },
    /** Fetches a tracked URL as a mail client would; an empty `userAgent` sends none. */
    visit: (url: string, userAgent: string, method: 'GET' | 'HEAD' = 'GET') =>
      ctx.app.inject({ method, url: url.startsWith('/') ? url : path(url), headers: { 'user-agent': userAgent } }),
  };
}

export const HUMAN_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';
