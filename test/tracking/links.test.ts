import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { followupClient } from '../helpers/followups.js';
import { body, setup } from '../helpers/setup.js';
import { HUMAN_UA, trackingClient } from '../helpers/tracking.js';

const ctx = await setup();
const followups = followupClient(ctx);
const api = trackingClient(ctx);

async function emailFollowup() {
  const tenant = await ctx.tenant();
  const followup = await followups.created(tenant.auth, { debt_id: await tenant.debt(), type: 'email', status: 'sent' });
  return { tenant, id: followup.id as string };
}

describe('tracked links', () => {
  test('a tracked link redirects to exactly its bound URL and counts a human click', async () => {
    const { tenant, id } = await emailFollowup();
    const destination = 'https://pay.example.com/inv/42?ref=abc&x=%20y#top';
    const response = await api.link(tenant.auth, id, { url: destination });
    assert.equal(response.statusCode, 201, response.body);
    const data = body(response).data;
    assert.equal(data.followup_id, id);
    assert.equal(data.destination, destination);
    assert.match(data.url, /^http:\/\/127\.0\.0\.1:3000\/t\/c\/[A-Za-z0-9_-]{43}$/);
    const click = await api.visit(data.url, HUMAN_UA);
    assert.equal(click.statusCode, 302);
    assert.equal(click.headers.location, destination);
    assert.equal(click.headers['cache-control'], 'no-store, no-cache, must-revalidate, private');
    const followup = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual([followup.email_clicked, followup.email_click_count, followup.status], [true, 1, 'sent']);
    const events = body(await api.events(tenant.auth, id)).data;
    assert.deepEqual(events.map((e: any) => [e.type, e.machine, e.user_agent_class, e.url]), [['clicked', false, 'human', destination]]);
  });

  test('the stored destination is the URL as browsers serialise it (ASCII, a valid Location)', async () => {
    const { tenant, id } = await emailFollowup();
    const data = body(await api.link(tenant.auth, id, { url: 'HTTPS://Bücher.example/ä?q=é' })).data;
    assert.equal(data.destination, 'https://xn--bcher-kva.example/%C3%A4?q=%C3%A9');
    assert.equal((await api.visit(data.url, HUMAN_UA)).headers.location, data.destination);
  });

  test('each link is its own token; nothing in the URL can change where it leads', async () => {
    const { tenant, id } = await emailFollowup();
    const a = await api.linkUrl(tenant.auth, id, 'https://a.example.com/');
    const b = await api.linkUrl(tenant.auth, id, 'https://a.example.com/');
    assert.notEqual(a, b);
    for (const path of [`${new URL(a).pathname}?url=https://evil.example`, `${new URL(a).pathname}?redirect=//evil.example`]) {
      const response = await api.visit(path, HUMAN_UA);
      assert.equal(response.statusCode, 302);
      assert.equal(response.headers.location, 'https://a.example.com/');
    }
  });

  test('an unknown, forged or odd click token is a 404 in the envelope, with no redirect', async () => {
    const { tenant, id } = await emailFollowup();
    const link = await api.linkUrl(tenant.auth, id, 'https://a.example.com/');
    const token = link.slice(link.lastIndexOf('/') + 1);
    const pixel = await api.pixelUrl(tenant.auth, id);
    const forged = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const path of [`/t/c/${forged}`, '/t/c/x', `/t/c/${'a'.repeat(5000)}`, '/t/c/%00%2F..%22%3C', '/t/c/a/b', new URL(pixel).pathname.replace('/t/o/', '/t/c/')]) {
      const response = await api.visit(path, HUMAN_UA);
      assert.equal(response.statusCode, 404, path);
      assert.equal(response.headers.location, undefined, path);
      assert.equal(response.body, JSON.stringify({ error: true, message: 'Tracking link not found', code: 404 }), path);
    }
    assert.equal(body(await followups.get(tenant.auth, id)).data.email_click_count, 0);
  });

  test('scanner clicks still redirect but are machine events and count nothing', async () => {
    const { tenant, id } = await emailFollowup();
    const link = await api.linkUrl(tenant.auth, id, 'https://a.example.com/pay');
    for (const agent of ['Mimecast-URL-Protect', 'Mozilla/5.0 (compatible; SafeLinks)', 'Proofpoint URL Defense', '']) {
      const response = await api.visit(link, agent);
      assert.equal(response.statusCode, 302);
      assert.equal(response.headers.location, 'https://a.example.com/pay');
    }
    assert.equal((await api.visit(link, HUMAN_UA, 'HEAD')).statusCode, 302);
    const followup = body(await followups.get(tenant.auth, id)).data;
    assert.deepEqual([followup.email_clicked, followup.email_click_count], [false, 0]);
    const events = body(await api.events(tenant.auth, id)).data;
    assert.deepEqual(events.map((e: any) => e.user_agent_class), ['security_scanner', 'microsoft_scanner', 'security_scanner', 'empty', 'head_request']);
    assert.ok(events.every((e: any) => e.machine));
  });

  test('bad bodies: 400 naming url', async () => {
    const { tenant, id } = await emailFollowup();
    for (const payload of [{}, { url: 'javascript:alert(1)' }, { url: 'ftp://a.example' }, { url: '/relative' }, { url: `https://a.example/${'a'.repeat(3000)}` }, { url: 42 }]) {
      const response = await api.link(tenant.auth, id, payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.deepEqual(Object.keys(body(response).details), ['url'], JSON.stringify(payload));
    }
  });
});
