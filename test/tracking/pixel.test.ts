import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { body, setup } from '../helpers/setup.js';
import { HUMAN_UA, trackingClient } from '../helpers/tracking.js';

const ctx = await setup();
const followups = followupClient(ctx);
const api = trackingClient(ctx);

const GIF = Buffer.from('47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b', 'hex');

async function emailFollowup(status = 'sent') {
  const tenant = await ctx.tenant();
  const followup = await followups.created(tenant.auth, { debt_id: await tenant.debt(), type: 'email', status });
  return { tenant, id: followup.id as string };
}

describe('open pixel', () => {
  test('the pixel URL is stable per followup and under PUBLIC_URL', async () => {
    const { tenant, id } = await emailFollowup();
    const response = await api.pixel(tenant.auth, id);
    assert.equal(response.statusCode, 200, response.body);
    const { url, followup_id } = body(response).data;
    assert.equal(followup_id, id);
    assert.match(url, /^http:\/\/127\.0\.0\.1:3000\/t\/o\/[A-Za-z0-9_-]{43}$/);
    assert.equal(await api.pixelUrl(tenant.auth, id), url);
  });

  test('answers the exact 1×1 GIF with no-cache headers, and counts a human open', async () => {
    const { tenant, id } = await emailFollowup('delivered');
    const response = await api.visit(await api.pixelUrl(tenant.auth, id), HUMAN_UA);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.rawPayload, GIF);
    assert.equal(response.rawPayload.length, 43);
    assert.equal(response.headers['content-type'], 'image/gif');
    assert.equal(response.headers['cache-control'], 'no-store, no-cache, must-revalidate, private');
    assert.equal(response.headers.pragma, 'no-cache');
    assert.equal(response.headers.expires, '0');
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.equal(data.email_opened, true);
    assert.equal(data.email_open_count, 1);
    assert.ok(data.email_first_opened_at);
  });

  test('the first human open moves sent to read, recorded with source tracking; later opens only count', async () => {
    const { tenant, id } = await emailFollowup('sent');
    const pixel = await api.pixelUrl(tenant.auth, id);
    await api.visit(pixel, HUMAN_UA);
    const first = body(await followups.get(tenant.auth, id)).data;
    assert.equal(first.status, 'read');
    await api.visit(pixel, HUMAN_UA);
    const second = body(await followups.get(tenant.auth, id)).data;
    assert.equal(second.email_open_count, 2);
    assert.equal(second.email_first_opened_at, first.email_first_opened_at);
    const history = body(await followups.history(tenant.auth, id)).data.filter((c: any) => c.field === 'status');
    assert.deepEqual(history.map((c: any) => [c.from, c.to, c.source]), [[null, 'sent', `api:${tenant.clientId}`], ['sent', 'read', 'tracking']]);
  });

  test('an open of a followup in another status leaves the status alone', async () => {
    const { tenant, id } = await emailFollowup('deal_found');
    await api.visit(await api.pixelUrl(tenant.auth, id), HUMAN_UA);
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.equal(data.status, 'deal_found');
    assert.equal(data.email_open_count, 1);
  });

  test('100 concurrent opens count 100', async () => {
    const { tenant, id } = await emailFollowup();
    const pixel = await api.pixelUrl(tenant.auth, id);
    const responses = await Promise.all(Array.from({ length: 100 }, () => api.visit(pixel, HUMAN_UA)));
    for (const response of responses) assert.equal(response.statusCode, 200);
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.equal(data.email_open_count, 100);
    assert.equal(data.status, 'read');
    const history = body(await followups.history(tenant.auth, id, 'limit=100')).data.filter((c: any) => c.source === 'tracking');
    assert.equal(history.length, 1, 'one move to read');
  });

  test('machine opens are listed as machine and count nothing', async () => {
    const { tenant, id } = await emailFollowup();
    const pixel = await api.pixelUrl(tenant.auth, id);
    const machines: [string, string][] = [
      ['Mozilla/5.0', 'apple_privacy_proxy'],
      ['Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)', 'google_image_proxy'],
      ['YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', 'yahoo_mail_proxy'],
      ['Mozilla/4.0 (compatible; ms-office; MSOffice 16) Microsoft Office/16.0', 'microsoft_scanner'],
      ['Barracuda Sentinel (EE)', 'security_scanner'],
      ['Mimecast-URL-Protect', 'security_scanner'],
      ['Proofpoint URL Defense', 'security_scanner'],
      ['Googlebot/2.1', 'bot'],
      ['', 'empty'],
    ];
    for (const [agent] of machines) assert.equal((await api.visit(pixel, agent)).statusCode, 200);
    const head = await api.visit(pixel, HUMAN_UA, 'HEAD');
    assert.equal(head.statusCode, 200);
    const data = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual([data.email_opened, data.email_open_count, data.email_first_opened_at, data.status], [false, 0, null, 'sent']);
    const events = body(await api.events(tenant.auth, id, 'limit=100')).data;
    assert.deepEqual(events.map((e: any) => [e.type, e.machine, e.user_agent_class]), [
      ...machines.map(([, kind]) => ['opened', true, kind]), ['opened', true, 'head_request'],
    ]);
  });

  test('an unknown, forged or odd token still gets the GIF and counts nothing', async () => {
    const { tenant, id } = await emailFollowup();
    const pixel = await api.pixelUrl(tenant.auth, id);
    const token = pixel.slice(pixel.lastIndexOf('/') + 1);
    const forged = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const path of [`/t/o/${forged}`, '/t/o/x', `/t/o/${'a'.repeat(5000)}`, '/t/o/%00%2F..%20%22%3C', '/t/o/a/b/c', `/t/o/${token}.gif`]) {
      const response = await api.visit(path, HUMAN_UA);
      assert.equal(response.statusCode, 200, path);
      assert.deepEqual(response.rawPayload, GIF, path);
    }
    // Not valid UTF-8 once decoded: the router refuses it as a malformed URL, never a 500.
    assert.equal((await api.visit('/t/o/%ff', HUMAN_UA)).statusCode, 400);
    const link = await api.linkUrl(tenant.auth, id, 'https://example.com/a');
    await api.visit(`/t/o/${link.slice(link.lastIndexOf('/') + 1)}`, HUMAN_UA);
    assert.equal(body(await followups.get(tenant.auth, id)).data.email_open_count, 0, 'a click token is no pixel');
  });
});
