/**
 * No socket lives for ever: slow headers, slow bodies and idle keep-alive connections are cut
 * (with a 408 where a request was under way), connections beyond the cap are refused, and a
 * shutdown is never held up by a client that trickles its body. Over real sockets, on a server
 * built with short limits so the tests take seconds; each wait is bounded by a multiple of the
 * configured limit, never by an absolute figure of its own.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { defaultHttpLimits, type HttpLimits } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { closeGracefully } from '../../src/http/shutdown.js';
import { deriveKeys } from '../../src/security/keys.js';
import { waitFor, within } from '../helpers/processes.js';
import { testStore } from '../helpers/storage.js';

const LIMITS: HttpLimits = {
  ...defaultHttpLimits(),
  requestTimeoutMs: 1_500,
  headersTimeoutMs: 1_000,
  keepAliveTimeoutMs: 1_000,
  socketTimeoutMs: 3_000,
  maxConnections: 8,
};
/** Node checks the timeouts on an interval: allow a few of them. */
const CUT_WITHIN = 5 * LIMITS.requestTimeoutMs;

async function startServer(limits: HttpLimits = LIMITS) {
  const pool = createPool(process.env.TEST_DATABASE_URL!, 2);
  const keys = deriveKeys(randomBytes(32));
  const app = await buildApp({ pool, keys, logger: pino({ level: 'silent' }), http: limits, storage: await testStore(keys) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, port, close: async () => { await app.close(); await pool.end(); } };
}

interface Held {
  socket: Socket;
  /** Everything the server sent. */
  received: () => string;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
}

function open(port: number, first = ''): Promise<Held> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    socket.once('error', () => {});
    socket.once('connect', () => {
      if (first) socket.write(first);
      resolve({ socket, received: () => data, closed });
    });
    socket.once('error', reject);
  });
}

const get = (port: number, path: string) =>
  fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) }).then(async (r) => ({ status: r.status, body: await r.text() }));

describe('timeouts', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => { server = await startServer(); });
  after(() => server.close());

  test('a body that never finishes is cut with a 408 envelope, on the unauthenticated token endpoint too', async () => {
    const held = await open(server.port, 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    await within(held.closed, CUT_WITHIN, 'the server to close a request whose body never ends');
    assert.match(held.received(), /^HTTP\/1\.1 408 /, held.received());
    assert.match(held.received(), /"message":"Request timed out","code":408/);
  });

  test('an API request without a token is answered 401 before its body is read, and its connection still closes', async () => {
    const held = await open(server.port, 'POST /external-api/v1/followups HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    await within(held.closed, CUT_WITHIN, 'the server to close a request whose body never ends');
    assert.match(held.received(), /^HTTP\/1\.1 401 /, held.received());
  });

  test('headers that never finish are cut', async () => {
    const held = await open(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    await within(held.closed, CUT_WITHIN, 'the server to close a request whose headers never end');
    assert.match(held.received(), /^HTTP\/1\.1 408 /);
  });

  test('a connection that sends nothing at all is closed', async () => {
    const held = await open(server.port);
    await within(held.closed, CUT_WITHIN, 'the server to close a silent connection');
  });

  test('an idle keep-alive connection is closed after its request', async () => {
    const held = await open(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(held.closed, CUT_WITHIN, 'the server to close an idle keep-alive connection');
    assert.match(held.received(), /^HTTP\/1\.1 200 /);
    assert.match(held.received(), /keep-alive: timeout=1/i);
  });
});

describe('clients that stop reading', () => {
  test('a client pipelining requests and reading nothing is disconnected, with at most 100 requests answered on its socket', async () => {
    const server = await startServer({ ...LIMITS, socketTimeoutMs: 1_500 });
    after(() => server.close());
    let handled = 0;
    server.app.server.on('request', () => handled++);
    // Large answers, never read: they pile up on the server unless it lets go.
    const held = await open(server.port);
    held.socket.pause();
    held.socket.write('GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(300));
    const connections = () => new Promise<number>((resolve, reject) => server.app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    await waitFor('the server to drop the connection of a client that reads nothing', async () => ((await connections()) === 0 ? true : undefined), CUT_WITHIN);
    assert.ok(handled <= 100, `${handled} requests answered on one socket`);
    held.socket.destroy();
  });
});

describe('connection cap', () => {
  test(`past MAX_CONNECTIONS new connections are refused at once, and served again once some close`, async () => {
    const server = await startServer({ ...LIMITS, requestTimeoutMs: 60_000, headersTimeoutMs: 60_000, socketTimeoutMs: 60_000 });
    after(() => server.close());
    // Each holds a connection with unfinished headers.
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => open(server.port, 'GET /health HTTP/1.1\r\n')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await open(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(refused.closed, CUT_WITHIN, 'a connection past the cap to be closed');
    assert.equal(refused.received(), '', 'no answer past the cap');

    for (const h of held) h.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await get(server.port, '/health')).status, 200);
  });
});

describe('shutdown', () => {
  test('a client trickling its body cannot hold a shutdown up; a request that completes in time is answered', async () => {
    const server = await startServer({ ...LIMITS, requestTimeoutMs: 60_000, headersTimeoutMs: 60_000, socketTimeoutMs: 60_000 });
    const slow = await open(server.port, 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    const body = JSON.stringify({ grant_type: 'client_credentials' });
    const finishing = await open(server.port, `POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));

    // The in-flight request has three quarters of it to be answered: ample on a busy machine.
    const grace = 3_000;
    const closing = closeGracefully(server.app, grace);
    // In flight when the shutdown began, complete a moment later: it gets its answer.
    setTimeout(() => finishing.socket.write(body), grace / 4);
    await within(closing, 10 * grace, 'closeGracefully with a trickling client');
    await within(slow.closed, 10 * grace, 'the trickling client to be disconnected');
    await within(finishing.closed, 10 * grace, 'the finishing client to be disconnected');
    assert.match(finishing.received(), /^HTTP\/1\.1 401 /, 'the in-flight request was answered (no client credentials: 401)');
    await server.close();
  });
});
