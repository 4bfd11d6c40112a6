/**
 * A hostile client against files, signed media links, tracking and payments: odd bodies,
 * lying sockets, floods and another company's ids.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { LocalBlobStore } from '../../src/storage/local-store.js';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { defaultHttpLimits } from '../../src/config.js';
import { waitFor } from '../helpers/processes.js';
import { API, GENEROUS_RATE_LIMITS, body, setup, type Tenant } from '../helpers/setup.js';
import { HUMAN_UA, trackingClient } from '../helpers/tracking.js';
import { paymentClient } from '../helpers/payments.js';

const MAX = 64 * 1024;
const ctx = await setup({ media: { maxBytes: MAX, urlTtlSeconds: 3600 } });
const tracking = trackingClient(ctx);
const payments = paymentClient(ctx);

const upload = (tenant: Tenant, id: string, bytes: Buffer, type = 'audio/mpeg') =>
  ctx.app.inject({ method: 'PUT', url: `${API}/followups/${id}/audio`, headers: { ...tenant.auth, 'content-type': type }, payload: bytes });
const get = (tenant: Tenant, id: string) => ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}`, headers: tenant.auth });
/** Uploads `bytes` as the followup's audio and returns the signed link to it that the followup now shows. */
async function audioLink(tenant: Tenant, id: string, bytes: Buffer): Promise<URL> {
  assert.equal((await upload(tenant, id, bytes)).statusCode, 200);
  return new URL(body(await get(tenant, id)).data.audio_url);
}
const history = async (tenant: Tenant, id: string) =>
  body(await ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/history?limit=100`, headers: tenant.auth })).data as { field: string }[];
const files = async () => {
  const dir = (ctx.storage as LocalBlobStore).dir;
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
};
let origin: URL | undefined;
async function raw(request: string | Buffer, more?: (socket: Socket) => Promise<void>): Promise<string> {
  origin ??= new URL(await ctx.app.listen({ host: '127.0.0.1', port: 0 }));
  const socket = connect(Number(origin.port), '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let answer = '';
  socket.on('data', (chunk) => { answer += chunk.toString('latin1'); });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  socket.write(request);
  if (more) await more(socket);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3000))]);
  socket.destroy();
  return answer;
}
const head = (tenant: Tenant, id: string, extra: string) =>
  `PUT ${API}/followups/${id}/audio HTTP/1.1\r\nHost: x\r\nAuthorization: ${tenant.auth.authorization}\r\nContent-Type: audio/mpeg\r\nConnection: close\r\n${extra}\r\n`;

describe('uploads over a socket', () => {
  test('a chunked upload past the limit is a 413 and leaves nothing', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const before = await files();
    const answer = await raw(head(tenant, id, 'Transfer-Encoding: chunked\r\n'), async (socket) => {
      for (let i = 0; i < 20; i++) {
        const chunk = randomBytes(8192);
        socket.write(`${chunk.length.toString(16)}\r\n`);
        socket.write(chunk);
        socket.write('\r\n');
      }
      socket.write('0\r\n\r\n');
    });
    assert.match(answer, /^HTTP\/1.1 413/, answer.slice(0, 200));
    assert.equal(body(await get(tenant, id)).data.audio_url, null);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual((await files()).filter((f) => !before.includes(f)), []);
  });

  test('a Content-Length past the limit is a 413 before the body', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const answer = await raw(head(tenant, id, `Content-Length: ${MAX + 1}\r\n`));
    assert.match(answer, /^HTTP\/1.1 413/, answer.slice(0, 200));
  });

  test('a Content-Length larger than what is sent, then a half-close, stores nothing', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const before = await files();
    const answer = await raw(head(tenant, id, 'Content-Length: 1000\r\n'), async (socket) => {
      socket.write(randomBytes(10));
      socket.end();
    });
    assert.doesNotMatch(answer, /^HTTP\/1.1 (200|500)/, answer.slice(0, 200));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(body(await get(tenant, id)).data.audio_url, null);
    assert.deepEqual((await files()).filter((f) => !before.includes(f)), []);
  });

  test('a huge Content-Length that is not a number, or negative, or two of them', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    for (const extra of ['Content-Length: 99999999999999999999999\r\n', 'Content-Length: -1\r\n', 'Content-Length: 5\r\nContent-Length: 6\r\n']) {
      const answer = await raw(head(tenant, id, extra) + 'hello');
      assert.doesNotMatch(answer, /^HTTP\/1.1 (200|500)/, `${extra}: ${answer.slice(0, 200)}`);
    }
  });
});

describe('uploads racing', () => {
  test('concurrent uploads of one followup: all answered, one file left, each in the history', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const before = await files();
    const answers = await Promise.all(Array.from({ length: 12 }, () => upload(tenant, id, randomBytes(1000))));
    const codes = answers.map((a) => a.statusCode);
    assert.ok(codes.every((c) => c === 200 || c === 429 || c === 503), codes.join(','));
    const ok = codes.filter((c) => c === 200).length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await files()).filter((f) => !before.includes(f)).length, 1);
    assert.equal((await history(tenant, id)).filter((c) => c.field === 'audio').length, ok);
  });

  test('an audio type too long to keep beside the file is a 415 naming what is taken, and stores nothing', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const before = await files();
    for (const type of [`audio/${'x'.repeat(300)}`, `audio/${'x'.repeat(5000)}`]) {
      const r = await upload(tenant, id, randomBytes(100), type);
      assert.equal(r.statusCode, 415, `${type.slice(0, 40)}: ${r.statusCode} ${r.body}`);
      assert.match(body(r).message, /audio\/\*/);
    }
    assert.deepEqual((await files()).filter((f) => !before.includes(f)), []);
    assert.equal((await history(tenant, id)).some((c) => c.field === 'audio'), false);
  });

  test('an upload racing the deletion of its debt leaves no file', async () => {
    const tenant = await ctx.tenant();
    const debt = await tenant.debt();
    const id = await tenant.followup(debt);
    const before = await files();
    const [up, del] = await Promise.all([
      upload(tenant, id, randomBytes(MAX - 1)),
      ctx.app.inject({ method: 'DELETE', url: `${API}/debts/${debt}`, headers: tenant.auth }),
    ]);
    assert.ok([200, 404].includes(up.statusCode), `${up.statusCode} ${up.body}`);
    assert.equal(del.statusCode, 200, del.body);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual((await files()).filter((f) => !before.includes(f)), []);
  });
});

describe('hostile bodies', () => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  test('deeply nested and huge JSON on tracking and payments are 4xx', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    for (const url of [`/followups/${id}/events`, `/followups/${id}/tracking-links`, '/payments']) {
      for (const payload of [`{"a":${nested(100_000)}}`, `{"url":"${'a'.repeat(900_000)}"}`, '{"type":"opened","__proto__":{"x":1}}', 'null', '[]', '"x"']) {
        const r = await ctx.app.inject({ method: 'POST', url: `${API}${url}`, headers: { ...tenant.auth, 'content-type': 'application/json' }, payload });
        assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${url} ${payload.slice(0, 30)}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      }
    }
  });

  test('extreme timestamps on events and payments are not 500s', async () => {
    const { tenant, id } = await tracking.emailFollowup();
    const debt = await payments.debt(tenant.auth);
    for (const at of ['0001-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59-14:00', '275760-09-13T00:00:00Z', '1970-01-01T00:00:00Z', '2024-02-30T00:00:00Z']) {
      const e = await tracking.event(tenant.auth, id, { type: 'delivered', occurred_at: at });
      assert.ok(e.statusCode < 500, `event ${at}: ${e.statusCode} ${e.body}`);
      const p = await payments.create(tenant.auth, { debt_id: debt.id, amount: '0.01', currency: 'EUR', paid_at: at });
      assert.ok(p.statusCode < 500, `payment ${at}: ${p.statusCode} ${p.body}`);
    }
    const list = await tracking.events(tenant.auth, id);
    assert.equal(list.statusCode, 200, list.body);
    const plist = await payments.list(tenant.auth, `debt_id=${debt.id}`);
    assert.equal(plist.statusCode, 200, plist.body);
  });

  test('odd amounts are 400s', async () => {
    const tenant = await ctx.tenant();
    const debt = await payments.debt(tenant.auth);
    for (const amount of ['1e3', '-1', '0', '0.00', '999999999999.999', '9999999999999', ' 1', '1.', '.5', 1e21, -0, 0.001, 'NaN', true, null, {}, []]) {
      const r = await payments.create(tenant.auth, { debt_id: debt.id, amount, currency: 'EUR' });
      assert.equal(r.statusCode, 400, `${JSON.stringify(amount)}: ${r.statusCode} ${r.body}`);
    }
  });

  test('the largest amount, twice, sums without overflow', async () => {
    const tenant = await ctx.tenant();
    const debt = await payments.debt(tenant.auth, { amount: 999999999999.99 });
    for (let i = 0; i < 3; i++) {
      const r = await payments.create(tenant.auth, { debt_id: debt.id, amount: '999999999999.99', currency: 'EUR' });
      assert.equal(r.statusCode, 201, r.body);
    }
  });
});

describe('floods', () => {
  test('concurrent events with one provider_event_id: one counted, the rest given the first', async () => {
    const { tenant, id } = await tracking.emailFollowup();
    const answers = await Promise.all(Array.from({ length: 20 }, () =>
      tracking.event(tenant.auth, id, { type: 'opened', provider_event_id: 'evt-1', user_agent: HUMAN_UA })));
    const codes = answers.map((a) => a.statusCode);
    assert.ok(codes.every((c) => c === 200 || c === 201 || c === 429 || c === 503), codes.join(','));
    assert.equal(codes.filter((c) => c === 201).length, 1, codes.join(','));
    assert.equal(body(await get(tenant, id)).data.email_open_count, 1);
  });

  test('concurrent payments with one reference: one recorded', async () => {
    const tenant = await ctx.tenant();
    const debt = await payments.debt(tenant.auth);
    const answers = await Promise.all(Array.from({ length: 15 }, () =>
      payments.create(tenant.auth, { debt_id: debt.id, amount: '1', currency: 'EUR', reference: 'R1' })));
    const codes = answers.map((a) => a.statusCode);
    assert.ok(codes.every((c) => c === 200 || c === 201 || c === 429 || c === 503), codes.join(','));
    assert.equal(codes.filter((c) => c === 201).length, 1, codes.join(','));
  });

  test('a flood of opens all count', async () => {
    const { tenant, id } = await tracking.emailFollowup();
    const pixel = await tracking.pixelUrl(tenant.auth, id);
    const answers = await Promise.all(Array.from({ length: 100 }, () => tracking.visit(pixel, HUMAN_UA)));
    assert.ok(answers.every((a) => a.statusCode === 200));
    assert.equal(body(await get(tenant, id)).data.email_open_count, 100);
  });
});

describe('tokens and links', () => {
  test('garbage tracking tokens', async () => {
    for (const token of ['', 'a', 'x'.repeat(5000), '%00', '..%2F..', '%E0%A4%A', 'a/b', '%']) {
      const o = await ctx.app.inject({ method: 'GET', url: `/t/o/${token}`, headers: { 'user-agent': HUMAN_UA } });
      assert.ok(o.statusCode < 500, `open ${token.slice(0, 20)}: ${o.statusCode} ${o.body}`);
      const c = await ctx.app.inject({ method: 'GET', url: `/t/c/${token}`, headers: { 'user-agent': HUMAN_UA } });
      assert.ok(c.statusCode < 500, `click ${token.slice(0, 20)}: ${c.statusCode} ${c.body}`);
    }
  });

  test("another company's followup for tracking, recording and files", async () => {
    const owner = await ctx.tenant();
    const intruder = await ctx.tenant();
    const id = await owner.followup(await owner.debt());
    const calls = [
      ctx.app.inject({ method: 'POST', url: `${API}/followups/${id}/tracking-links`, headers: intruder.auth, payload: { url: 'https://e.com' } }),
      ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/tracking-pixel`, headers: intruder.auth }),
      ctx.app.inject({ method: 'POST', url: `${API}/followups/${id}/events`, headers: intruder.auth, payload: { type: 'opened' } }),
      ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/tracking-events`, headers: intruder.auth }),
      ctx.app.inject({ method: 'GET', url: `${API}/followups/${id}/recording`, headers: intruder.auth }),
      ctx.app.inject({ method: 'DELETE', url: `${API}/followups/${id}/pdf`, headers: intruder.auth }),
    ];
    for (const r of await Promise.all(calls)) assert.equal(r.statusCode, 403, r.body);
  });

  test('a payment naming another company\'s followup is refused', async () => {
    const owner = await ctx.tenant();
    const intruder = await ctx.tenant();
    const foreign = await owner.followup(await owner.debt());
    const debt = await payments.debt(intruder.auth);
    const r = await payments.create(intruder.auth, { debt_id: debt.id, amount: '1', currency: 'EUR', followup_id: foreign });
    assert.equal(r.statusCode, 400, r.body);
  });

  test('signed media links: tampered, odd ranges and odd query strings', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const url = await audioLink(tenant, id, randomBytes(1000));
    const path = url.pathname + url.search;
    for (const range of ['bytes=0-0', 'bytes=-0', 'bytes=999999999999999999999-', 'bytes=0-999999999999999999999999', 'bytes=--1', 'bytes= 5 - 6 ', 'bytes=1000-', 'bytes=-99999999999999999999999']) {
      const r = await ctx.app.inject({ method: 'GET', url: path, headers: { range } });
      assert.ok([200, 206, 416].includes(r.statusCode), `${range}: ${r.statusCode} ${r.body}`);
    }
    for (const q of [`${path}&expires=1`, `${path}&signature=x`, `${path}&filename=evil.html`, `${path}&type=text/html`, `${url.pathname}?${'a=1&'.repeat(5000)}`, `${path}&type=`, `${path}&filename=`]) {
      const r = await ctx.app.inject({ method: 'GET', url: q });
      assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${q.slice(0, 200)}: ${r.statusCode} ${r.body}`);
    }
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS'] as const) {
      const r = await ctx.app.inject({ method: m, url: path });
      assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${m}: ${r.statusCode}`);
    }
  });

  test('huge headers are refused, not a 500', async () => {
    const tenant = await ctx.tenant();
    const answer = await raw(`GET ${API}/followups HTTP/1.1\r\nHost: x\r\nAuthorization: ${tenant.auth.authorization}\r\nX-Big: ${'a'.repeat(100_000)}\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1.1 431/, answer.slice(0, 100));
  });
});

describe('after the fact', () => {
  test('links of a deleted debt: the old media link is a 404, the pixel counts nothing, a click is a 404', async () => {
    const tenant = await ctx.tenant();
    const debt = await tenant.debt();
    const created = await ctx.app.inject({ method: 'POST', url: `${API}/followups`, headers: tenant.auth, payload: { debt_id: debt, type: 'email', status: 'sent' } });
    const id = body(created).data.id;
    const media = await audioLink(tenant, id, randomBytes(100));
    const pixel = await tracking.pixelUrl(tenant.auth, id);
    const click = await tracking.linkUrl(tenant.auth, id, 'https://pay.example.com/x');
    assert.equal((await ctx.app.inject({ method: 'DELETE', url: `${API}/debts/${debt}`, headers: tenant.auth })).statusCode, 200);
    const m = await ctx.app.inject({ method: 'GET', url: media.pathname + media.search });
    assert.equal(m.statusCode, 404, m.body);
    const o = await tracking.visit(pixel, HUMAN_UA);
    assert.equal(o.statusCode, 200, o.body);
    const c = await tracking.visit(click, HUMAN_UA);
    assert.equal(c.statusCode, 404, c.body);
  });

  test('a replaced file: the old link is a 404', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const old = await audioLink(tenant, id, randomBytes(100));
    assert.equal((await upload(tenant, id, randomBytes(50))).statusCode, 200);
    assert.equal((await ctx.app.inject({ method: 'GET', url: old.pathname + old.search })).statusCode, 404);
    assert.equal((await ctx.app.inject({ method: 'HEAD', url: old.pathname + old.search })).statusCode, 404);
  });

  test('pages far away and odd limits are not 500s', async () => {
    const { tenant, id } = await tracking.emailFollowup();
    for (const q of ['page=0', 'page=-1', 'page=99999999999999999999', 'page=1e400', 'limit=0', 'limit=100000', 'limit=abc', 'page=2147483648', 'page=9007199254740993&limit=100', 'page[]=1', 'page=1&page=2']) {
      const e = await tracking.events(tenant.auth, id, q);
      assert.ok(e.statusCode < 500, `events ${q}: ${e.statusCode} ${e.body}`);
      const p = await payments.list(tenant.auth, q);
      assert.ok(p.statusCode < 500, `payments ${q}: ${p.statusCode} ${p.body}`);
    }
  });

  test('a HEAD on a click link redirects but counts nothing', async () => {
    const { tenant, id } = await tracking.emailFollowup();
    const click = await tracking.linkUrl(tenant.auth, id, 'https://pay.example.com/x');
    const h = await tracking.visit(click, HUMAN_UA, 'HEAD');
    assert.ok(h.statusCode === 302, `${h.statusCode}`);
    assert.equal(body(await get(tenant, id)).data.email_click_count, 0);
  });

  test('odd tracking-link destinations', async () => {
    const { tenant, id } = await tracking.emailFollowup();
    for (const url of ['javascript:alert(1)', 'https://user:pass@evil.com/', 'http://[::1]/', 'https://exa mple.com/', 'https://example.com/\r\nSet-Cookie: a=b', 'https://例え.jp/パス?q=ü#frag', `https://e.com/${'%'.repeat(2000)}`]) {
      const r = await tracking.link(tenant.auth, id, { url });
      assert.ok(r.statusCode < 500, `${url}: ${r.statusCode} ${r.body}`);
      if (r.statusCode === 201) {
        const v = await tracking.visit(body(r).data.url, HUMAN_UA);
        assert.equal(v.statusCode, 302, `${url}: ${v.statusCode} ${v.body}`);
        assert.doesNotMatch(String(v.headers.location), /[\r\n]/);
      }
    }
  });
});

describe('held and aborted uploads', () => {
  test("uploads aborted mid-way give back their client's concurrency slots", async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    origin ??= new URL(await ctx.app.listen({ host: '127.0.0.1', port: 0 }));
    const sockets: Socket[] = [];
    for (let i = 0; i < 60; i++) {
      const socket = connect(Number(origin.port), '127.0.0.1');
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(head(tenant, id, 'Content-Length: 50000\r\n'));
      socket.write(randomBytes(1000));
      sockets.push(socket);
    }
    // Held: once the uploads have reached the app, this client is at its limit (a poll served
    // meanwhile gives its slot back), and another is served.
    const status = async (who: typeof tenant) => (await ctx.app.inject({ method: 'GET', url: `${API}/followups`, headers: who.auth })).statusCode;
    await waitFor('the held uploads to take the client\'s slots', async () => ((await status(tenant)) === 429 ? true : undefined), 30_000);
    const other = await ctx.tenant();
    assert.equal(await status(other), 200);
    for (const socket of sockets) socket.destroy();
    await waitFor('the slots to come back', async () => ((await status(tenant)) === 200 ? true : undefined), 30_000);
    const hist = await history(tenant, id);
    assert.equal(hist.some((c) => c.field === 'audio'), false);
  });
});

describe('README claims on /media', () => {
  test('a path not exactly a key is a 400, an unsigned link a 403, a range past the end a 416 with Content-Range', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const url = await audioLink(tenant, id, randomBytes(1000));
    for (const path of [`${url.pathname}/${url.search}`, `${url.pathname.replace('/audio/', '/audio%2F')}${url.search}`]) {
      const r = await ctx.app.inject({ method: 'GET', url: path });
      assert.equal(r.statusCode, 400, `${path}: ${r.statusCode} ${r.body}`);
    }
    assert.equal((await ctx.app.inject({ method: 'GET', url: url.pathname })).statusCode, 403);
    // Sent as is over a socket (inject would resolve the dots itself).
    for (const path of [`/media/audio/..${url.search}`, `/media/audio/../pdf${url.pathname.slice(12)}${url.search}`]) {
      const answer = await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(answer, /^HTTP\/1.1 400/, `${path}: ${answer.slice(0, 300)}`);
    }
    for (const method of ['GET', 'HEAD'] as const) {
      const r = await ctx.app.inject({ method, url: url.pathname + url.search, headers: { range: 'bytes=1000-' } });
      assert.equal(r.statusCode, 416, `${method}`);
      assert.equal(r.headers['content-range'], 'bytes */1000');
    }
    const ok = await ctx.app.inject({ method: 'GET', url: url.pathname + url.search });
    assert.match(String(ok.headers['cache-control']), /^private, max-age=(3599|3600)$/);
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');
  });

  test('the pixel is a 43-byte GIF with no-store, for any token', async () => {
    for (const token of ['nope', 'A'.repeat(43)]) {
      const r = await ctx.app.inject({ method: 'GET', url: `/t/o/${token}`, headers: { 'user-agent': HUMAN_UA } });
      assert.equal(r.statusCode, 200);
      assert.equal(r.rawPayload.length, 43);
      assert.equal(r.headers['content-type'], 'image/gif');
      assert.equal(r.headers['cache-control'], 'no-store, no-cache, must-revalidate, private');
    }
  });

  test('one provider_event_id in two companies: each counted in its own', async () => {
    const a = await tracking.emailFollowup();
    const b = await tracking.emailFollowup();
    const ea = await tracking.event(a.tenant.auth, a.id, { type: 'opened', provider_event_id: 'same', user_agent: HUMAN_UA });
    const eb = await tracking.event(b.tenant.auth, b.id, { type: 'opened', provider_event_id: 'same', user_agent: HUMAN_UA });
    assert.equal(ea.statusCode, 201);
    assert.equal(eb.statusCode, 201, eb.body);
    assert.notEqual(body(ea).data.id, body(eb).data.id);
    assert.equal(body(await get(b.tenant, b.id)).data.email_open_count, 1);
  });
});

describe('status races of tracking', () => {
  test('concurrent opens and a late delivered: read once in the history, and read it stays', async () => {
    const { tenant, id } = await tracking.emailFollowup('sent');
    const pixel = await tracking.pixelUrl(tenant.auth, id);
    await Promise.all([
      ...Array.from({ length: 30 }, () => tracking.visit(pixel, HUMAN_UA)),
      ...Array.from({ length: 5 }, (_, i) => tracking.event(tenant.auth, id, { type: 'delivered', provider_event_id: `d${i}` })),
      ...Array.from({ length: 5 }, (_, i) => tracking.event(tenant.auth, id, { type: 'bounced', provider_event_id: `b${i}` })),
    ]);
    const data = body(await get(tenant, id)).data;
    assert.equal(data.email_open_count, 30);
    const statuses = (await history(tenant, id)).filter((c) => c.field === 'status') as unknown as { from_value?: unknown; to_value?: unknown; from?: unknown; to?: unknown }[];
    const toRead = statuses.filter((c) => (c.to ?? c.to_value) === 'read');
    assert.equal(toRead.length, 1, JSON.stringify(statuses));
    // Bounces after the first open leave it read; bounces before it made it failed, which no open undoes.
    assert.ok(['read', 'failed'].includes(data.status), data.status);
    if (data.status === 'failed') assert.equal((statuses.at(-1)!.to ?? statuses.at(-1)!.to_value), 'failed');
  });
});

describe('a trickled upload', () => {
  test('an upload trickled past the request timeout is cut with a 408 and stores nothing', async () => {
    const app = await buildApp({
      pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage: ctx.storage, rateLimits: GENEROUS_RATE_LIMITS,
      media: { maxBytes: MAX, urlTtlSeconds: 3600 }, http: { ...defaultHttpLimits(), requestTimeoutMs: 1000, headersTimeoutMs: 500 },
    });
    try {
      const address = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
      const tenant = await ctx.tenant();
      const id = await tenant.followup(await tenant.debt());
      const before = await files();
      const socket = connect(Number(address.port), '127.0.0.1');
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      let answer = '';
      socket.on('data', (chunk) => { answer += chunk.toString('latin1'); });
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(head(tenant, id, 'Content-Length: 1000\r\n'));
      const started = Date.now();
      const timer = setInterval(() => { if (!socket.destroyed) socket.write('x'); }, 100);
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
      clearInterval(timer);
      socket.destroy();
      assert.ok(Date.now() - started < 4500, 'cut within the timeout');
      assert.match(answer, /^HTTP\/1.1 408/, answer.slice(0, 200));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual((await files()).filter((f) => !before.includes(f)), []);
      assert.equal(body(await get(tenant, id)).data.audio_url, null);
    } finally {
      await app.close();
    }
  });
});

describe('uploads and deletes racing', () => {
  test('PUT and DELETE of one pdf racing: what the followup shows is what storage holds', async () => {
    const tenant = await ctx.tenant();
    const id = await tenant.followup(await tenant.debt());
    const before = await files();
    const put = () => ctx.app.inject({ method: 'PUT', url: `${API}/followups/${id}/pdf`, headers: { ...tenant.auth, 'content-type': 'application/pdf' }, payload: randomBytes(5000) });
    const del = () => ctx.app.inject({ method: 'DELETE', url: `${API}/followups/${id}/pdf`, headers: tenant.auth });
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? del() : put())));
    assert.ok(answers.every((a) => a.statusCode === 200), answers.map((a) => a.statusCode).join(','));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const left = (await files()).filter((f) => !before.includes(f));
    const pdf = body(await get(tenant, id)).data.pdf_url;
    assert.equal(left.length, pdf === null ? 0 : 1, `${pdf} ${left.join(',')}`);
    if (pdf) assert.equal((await ctx.app.inject({ method: 'GET', url: new URL(pdf).pathname + new URL(pdf).search })).statusCode, 200);
  });
});
