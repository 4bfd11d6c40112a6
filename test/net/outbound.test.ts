import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { AllowList, type Lookup, OutboundError, type OutboundFailure, outboundRequest, readBody } from '../../src/net/outbound.js';
import { followRedirect, type Hop } from '../../src/net/request-target.js';
import { REPO_ROOT, WAIT_MS } from '../helpers/processes.js';

const LOOPBACK = AllowList.parse('127.0.0.1').allow;

/** Asserts that `promise` fails with an OutboundError for `reason`, and returns it. */
async function refused(promise: Promise<unknown>, reason: OutboundFailure): Promise<OutboundError> {
  const error = await promise.then(
    () => assert.fail(`expected ${reason}, got a response`),
    (failure: unknown) => failure,
  );
  assert.ok(error instanceof OutboundError, String(error));
  assert.equal(error.reason, reason, error.message);
  return error;
}

/** A lookup that answers `addresses` for any name, counting its calls. */
function resolvingTo(...addresses: string[]): Lookup & { calls: number } {
  const lookup = async () => {
    lookup.calls++;
    return addresses.map((address): LookupAddress => ({ address, family: net.isIP(address) }));
  };
  lookup.calls = 0;
  return lookup;
}

interface TestServer {
  origin: string;
  port: number;
  /** Paths requested since the server started. */
  hits: string[];
  close: () => Promise<void>;
}

/** The paths `server` is asked for while `run` runs. */
async function hitsDuring(target: TestServer, run: () => Promise<void>): Promise<string[]> {
  const start = target.hits.length;
  await run();
  return target.hits.slice(start);
}

/** A loopback HTTP server (HTTPS with `tls`) with one route per behaviour the tests need. */
async function startServer(tls?: { key: Buffer; cert: Buffer }): Promise<TestServer> {
  const hits: string[] = [];
  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = new URL(request.url!, 'http://x');
    hits.push(url.pathname);
    route(url, request, response);
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    hits,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function route(url: URL, request: http.IncomingMessage, response: http.ServerResponse): void {
  const query = (name: string) => url.searchParams.get(name) ?? '';
  switch (url.pathname) {
    case '/ok':
      return void response.end('hello');
    case '/slow':
      return void setTimeout(() => response.end('late'), Number(query('ms')));
    case '/echo': {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => response.end(JSON.stringify({ method: request.method, headers: request.headers, body: Buffer.concat(chunks).toString() })));
      return;
    }
    case '/redirect':
      return void response.writeHead(Number(query('status') || 302), { location: query('to') }).end();
    case '/no-location':
      return void response.writeHead(302).end();
    case '/loop':
      return void response.writeHead(302, { location: '/loop' }).end();
    case '/chain': {
      const left = Number(query('n'));
      return void response.writeHead(302, { location: left > 0 ? `/chain?n=${left - 1}` : '/ok' }).end();
    }
    case '/status':
      return void response.writeHead(Number(query('code'))).end('failure page');
    case '/stall-headers':
      return; // never answers
    case '/stall-body':
      response.writeHead(200, { 'content-type': 'audio/mpeg' });
      return void response.write('the first bytes');
    case '/cut-body':
      response.writeHead(200, { 'content-length': '1000' });
      response.write('a few bytes');
      return void setImmediate(() => request.socket.destroy());
    case '/announced':
      response.writeHead(200, { 'content-length': query('bytes') });
      return void response.end(Buffer.alloc(Number(query('bytes'))));
    case '/chunked':
      return void writeChunks(response, Number(query('chunks')), Number(query('size')));
    default:
      response.writeHead(404).end();
  }
}

/** Chunks without Content-Length, one per tick, so the client sees a stream. */
function writeChunks(response: http.ServerResponse, chunks: number, size: number): void {
  if (response.destroyed) return;
  if (chunks === 0) return void response.end();
  response.write(Buffer.alloc(size, 'x'));
  setImmediate(() => writeChunks(response, chunks - 1, size));
}

let server: TestServer;
let other: TestServer;

before(async () => {
  server = await startServer();
  other = await startServer();
});

after(async () => {
  await server.close();
  await other.close();
});

describe('outboundRequest: refused destinations', () => {
  test('loopback, private, link-local, CGNAT, multicast and unspecified literals are refused, without a connection', async () => {
    const literals = [
      `127.0.0.1:${server.port}`, `[::1]:${server.port}`, `0.0.0.0:${server.port}`, '[::]', '10.0.0.1', '172.16.0.1',
      '192.168.1.1', '169.254.169.254', '100.64.0.1', '224.0.0.1', '255.255.255.255', '[fe80::1]', '[fc00::1]', '[ff02::1]',
      // Spellings the URL parser turns into 127.0.0.1.
      `0x7f.1:${server.port}`, `2130706433:${server.port}`,
    ];
    const hits = await hitsDuring(server, async () => {
      for (const literal of literals) {
        // A lookup that would let anything through is never asked: a literal is checked as it is.
        const error = await refused(outboundRequest(`http://${literal}/ok`, { lookup: resolvingTo('93.184.215.14') }), 'blocked_address');
        assert.match(error.message, /is a private, loopback or reserved address/, literal);
      }
    });
    assert.deepEqual(hits, [], 'no request reached the server');
  });

  test('IPv4-mapped IPv6 loopback is refused, even with 127.0.0.1 allowed', async () => {
    const hits = await hitsDuring(server, async () => {
      for (const allow of [AllowList.EMPTY, LOOPBACK]) {
        await refused(outboundRequest(`http://[::ffff:127.0.0.1]:${server.port}/ok`, { allow }), 'blocked_address');
      }
    });
    assert.deepEqual(hits, []);
  });

  test('localhost is refused: the addresses it resolves to are checked, not its name', async () => {
    const hits = await hitsDuring(server, async () => {
      const error = await refused(outboundRequest(`http://localhost:${server.port}/ok`), 'blocked_address');
      assert.equal(error.message, `localhost:${server.port} resolves to a private, loopback or reserved address: Relance does not connect there`);
    });
    assert.deepEqual(hits, []);
  });

  test('a name resolving to 127.0.0.1 is refused after resolution; allowed, the request goes to the address it resolved to', async () => {
    const lookup = resolvingTo('127.0.0.1');
    const hits = await hitsDuring(server, async () => {
      const error = await refused(outboundRequest(`http://evil.test:${server.port}/ok`, { lookup }), 'blocked_address');
      assert.equal(error.message, `evil.test:${server.port} resolves to a private, loopback or reserved address: Relance does not connect there`);
    });
    assert.equal(lookup.calls, 1);
    assert.deepEqual(hits, []);

    const response = await outboundRequest(`http://evil.test:${server.port}/echo`, { lookup, allow: LOOPBACK });
    assert.equal(JSON.parse((await readBody(response)).toString()).headers.host, `evil.test:${server.port}`);
  });

  test('a name resolving to a public and a loopback address is refused: one bad address is enough', async () => {
    await refused(outboundRequest(`http://mixed.test:${server.port}/ok`, { lookup: resolvingTo('93.184.215.14', '127.0.0.1') }), 'blocked_address');
    await refused(outboundRequest(`http://mixed.test:${server.port}/ok`, { lookup: resolvingTo('127.0.0.1', '10.0.0.1'), allow: LOOPBACK }), 'blocked_address');
  });

  test('the socket uses the addresses checked: the name is resolved once per hop, never again at connect', async () => {
    const lookup = resolvingTo('127.0.0.1');
    const response = await outboundRequest(`http://rebind.test:${server.port}/ok`, { lookup, allow: LOOPBACK });
    assert.equal((await readBody(response)).toString(), 'hello');
    assert.equal(lookup.calls, 1);
  });

  test('an allowed address does not open its neighbours; a range or a host name entry opens what it names', async () => {
    await refused(outboundRequest(`http://127.0.0.2:${server.port}/ok`, { allow: LOOPBACK }), 'blocked_address');
    const range = AllowList.parse('127.0.0.0/8').allow;
    assert.equal((await readBody(await outboundRequest(`${server.origin}/ok`, { allow: range }))).toString(), 'hello');
    const byName = AllowList.parse('media.internal').allow;
    const response = await outboundRequest(`http://media.internal:${server.port}/ok`, { allow: byName, lookup: resolvingTo('127.0.0.1') });
    assert.equal((await readBody(response)).toString(), 'hello');
    await refused(outboundRequest(`http://other.internal:${server.port}/ok`, { allow: byName, lookup: resolvingTo('127.0.0.1') }), 'blocked_address');
  });

  test('a name that does not resolve is a network error naming only that name', async () => {
    const lookup: Lookup = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' }));
    const error = await refused(outboundRequest('https://nowhere.test/recording.mp3?X-Amz-Signature=secret', { lookup }), 'network');
    assert.equal(error.message, 'nowhere.test could not be resolved');
  });
});

describe('outboundRequest: URLs refused before any request', () => {
  test('only http and https URLs are fetched', async () => {
    for (const url of ['ftp://example.com/file', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/plain,hi', 'gopher://127.0.0.1:70/']) {
      const error = await refused(outboundRequest(url), 'invalid_url');
      assert.equal(error.message, 'The URL is not an http or https URL', url);
    }
    for (const url of ['not a url', '/relative/path', 'http://[::1']) {
      assert.equal((await refused(outboundRequest(url), 'invalid_url')).message, 'The URL is not a valid absolute URL', url);
    }
  });

  test('a URL with credentials is refused, and the message does not repeat them', async () => {
    const hits = await hitsDuring(server, async () => {
      for (const url of [`http://user:hunter2@127.0.0.1:${server.port}/ok`, 'https://hunter2@example.com/', 'https://:hunter2@example.com/']) {
        const error = await refused(outboundRequest(url, { allow: LOOPBACK }), 'invalid_url');
        assert.equal(error.message, 'The URL carries a user name or password');
      }
    });
    assert.deepEqual(hits, []);
  });
});

describe('outboundRequest: redirects', () => {
  const redirect = (to: string, status = 302) => `${server.origin}/redirect?status=${status}&to=${encodeURIComponent(to)}`;

  test('a redirect to an allowed address is followed; the response is the last hop\'s', async () => {
    const response = await outboundRequest(redirect('/ok'), { allow: LOOPBACK });
    assert.equal(response.status, 200);
    assert.equal(response.url.href, `${server.origin}/ok`);
    assert.equal((await readBody(response)).toString(), 'hello');
  });

  test('a redirect from an allowed server to an address that is not allowed is refused, without naming it', async () => {
    const targets = [`http://127.0.0.2:${server.port}/ok`, `http://[::1]:${server.port}/ok`, `http://[::ffff:127.0.0.1]:${server.port}/ok`, 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/'];
    const hits = await hitsDuring(server, async () => {
      for (const to of targets) {
        const error = await refused(outboundRequest(redirect(to), { allow: LOOPBACK }), 'blocked_address');
        assert.equal(error.message, `127.0.0.1:${server.port} redirected to a private, loopback or reserved address: Relance does not connect there`, to);
      }
    });
    assert.deepEqual(hits, targets.map(() => '/redirect'), 'only the redirecting route was reached');
  });

  test('a redirect to a name that resolves to a refused address is refused', async () => {
    const lookup = resolvingTo('127.0.0.2');
    await refused(outboundRequest(redirect(`http://evil.test:${server.port}/ok`), { allow: LOOPBACK, lookup }), 'blocked_address');
    assert.equal(lookup.calls, 1, 'the redirect target was resolved, then refused');
  });

  test('a redirect loop is too_many_redirects', async () => {
    const error = await refused(outboundRequest(`${server.origin}/loop`, { allow: LOOPBACK }), 'too_many_redirects');
    assert.equal(error.message, `127.0.0.1:${server.port} redirected more than 5 times`);
  });

  test('five redirects are followed and a sixth is too many; maxRedirects sets the limit', async () => {
    assert.equal((await readBody(await outboundRequest(`${server.origin}/chain?n=4`, { allow: LOOPBACK }))).toString(), 'hello');
    await refused(outboundRequest(`${server.origin}/chain?n=5`, { allow: LOOPBACK }), 'too_many_redirects');
    await refused(outboundRequest(`${server.origin}/chain?n=0`, { allow: LOOPBACK, maxRedirects: 0 }), 'too_many_redirects');
    assert.equal((await readBody(await outboundRequest(`${server.origin}/chain?n=0`, { allow: LOOPBACK, maxRedirects: 1 }))).toString(), 'hello');
  });

  test('a redirect to another scheme, to a URL with credentials or to an invalid URL is a bad_redirect', async () => {
    const cases = [
      ['ftp://example.com/file', 'redirected to a URL that is not an http or https URL'],
      ['file:///etc/passwd', 'redirected to a URL that is not an http or https URL'],
      [`http://user:hunter2@127.0.0.1:${server.port}/ok`, 'redirected to a URL that carries a user name or password'],
      ['http://[::1', 'redirected to an invalid URL'],
    ];
    for (const [to, message] of cases) {
      const error = await refused(outboundRequest(redirect(to!), { allow: LOOPBACK }), 'bad_redirect');
      assert.equal(error.message, `127.0.0.1:${server.port} ${message}`, to);
    }
  });

  test('a 3xx without Location is an http_status failure', async () => {
    assert.equal((await refused(outboundRequest(`${server.origin}/no-location`, { allow: LOOPBACK }), 'http_status')).status, 302);
  });

  test('a 303, or a POST answered 302, becomes a GET without body; a 307 or 308 keeps method and body', async () => {
    const post = { allow: LOOPBACK, method: 'POST', body: '{"event":"x"}', headers: { 'Content-Type': 'application/json' } };
    for (const [status, method, body] of [[303, 'GET', ''], [302, 'GET', ''], [307, 'POST', '{"event":"x"}'], [308, 'POST', '{"event":"x"}']] as const) {
      const echoed = JSON.parse((await readBody(await outboundRequest(redirect('/echo', status), post))).toString());
      assert.equal(echoed.method, method, String(status));
      assert.equal(echoed.body, body, String(status));
      assert.equal(echoed.headers['content-type'], body ? 'application/json' : undefined, String(status));
    }
  });

  test('credentials headers follow a redirect on the same origin only', async () => {
    const options = { allow: LOOPBACK, headers: { Authorization: 'Bearer hunter2', Cookie: 'a=b', 'X-Kept': 'yes' } };
    const same = JSON.parse((await readBody(await outboundRequest(redirect('/echo'), options))).toString());
    assert.equal(same.headers.authorization, 'Bearer hunter2');
    const elsewhere = JSON.parse((await readBody(await outboundRequest(redirect(`${other.origin}/echo`), options))).toString());
    assert.equal(elsewhere.headers.authorization, undefined);
    assert.equal(elsewhere.headers.cookie, undefined);
    assert.equal(elsewhere.headers['x-kept'], 'yes');
  });

  test('a redirect from https to plain http is refused unless allowed; http to https is followed', () => {
    const hop: Hop = { url: new URL('https://media.example.com/a'), method: 'GET', headers: {}, body: undefined };
    assert.throws(
      () => followRedirect(hop, 302, 'http://media.example.com/b', false, 'media.example.com'),
      (error: unknown) => error instanceof OutboundError && error.reason === 'bad_redirect' && error.message === 'media.example.com redirected from https to plain http',
    );
    assert.equal(followRedirect(hop, 302, 'http://media.example.com/b', true, 'media.example.com').url.href, 'http://media.example.com/b');
    const plain: Hop = { ...hop, url: new URL('http://media.example.com/a') };
    assert.equal(followRedirect(plain, 301, 'https://cdn.example.com/b?x=1', false, 'media.example.com').url.href, 'https://cdn.example.com/b?x=1');
    assert.equal(followRedirect(plain, 302, '../c', false, 'media.example.com').url.href, 'http://media.example.com/c');
  });
});

describe('outboundRequest: deadlines and caps', () => {
  test('the deadline fires on a server that sends its headers and then stalls the body', async () => {
    // Long enough for the headers to arrive on a busy machine: only the body's stall is to time out.
    const response = await outboundRequest(`${server.origin}/stall-body`, { allow: LOOPBACK, timeoutMs: 2_000 });
    assert.equal(response.status, 200);
    const error = await refused(readBody(response), 'timeout');
    assert.equal(error.message, `127.0.0.1:${server.port} did not answer in full within 2000 ms`);
  });

  test('a body nobody reads is destroyed at the deadline, without an uncaught error', async () => {
    const response = await outboundRequest(`${server.origin}/stall-body`, { allow: LOOPBACK, timeoutMs: 2_000 });
    await new Promise((resolve) => response.body.once('close', resolve));
    assert.ok(response.body.errored instanceof OutboundError);
    assert.equal(response.body.errored.reason, 'timeout');
  });

  test('the deadline covers a server that never answers and a DNS lookup that never does', async () => {
    await refused(outboundRequest(`${server.origin}/stall-headers`, { allow: LOOPBACK, timeoutMs: 200 }), 'timeout');
    const silent: Lookup = () => new Promise(() => {});
    await refused(outboundRequest('http://slow-dns.test/', { lookup: silent, timeoutMs: 200 }), 'timeout');
  });

  test('the connect timeout fires on a TLS handshake that never completes', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as net.AddressInfo;
    try {
      const error = await refused(outboundRequest(`https://127.0.0.1:${port}/`, { allow: LOOPBACK, connectTimeoutMs: 200, timeoutMs: 60_000 }), 'timeout');
      assert.equal(error.message, `Could not connect to 127.0.0.1:${port} within 200 ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('a Content-Length over maxBytes is refused before the body is read', async () => {
    const error = await refused(outboundRequest(`${server.origin}/announced?bytes=1000`, { allow: LOOPBACK, maxBytes: 999 }), 'too_large');
    assert.equal(error.message, `The response of 127.0.0.1:${server.port} is larger than 999 bytes`);
    const exact = await outboundRequest(`${server.origin}/announced?bytes=1000`, { allow: LOOPBACK, maxBytes: 1000 });
    assert.equal((await readBody(exact)).length, 1000);
  });

  test('a chunked body fails as it passes maxBytes, read whole or streamed; at maxBytes it is read whole', async () => {
    const url = `${server.origin}/chunked?chunks=10&size=100`;
    await refused(readBody(await outboundRequest(url, { allow: LOOPBACK, maxBytes: 250 })), 'too_large');

    const streamed = await outboundRequest(url, { allow: LOOPBACK, maxBytes: 250 });
    let received = 0;
    await refused((async () => {
      for await (const chunk of streamed.body) received += (chunk as Buffer).length;
    })(), 'too_large');
    assert.ok(received <= 250, `${received} bytes passed the cap`);

    assert.equal((await readBody(await outboundRequest(url, { allow: LOOPBACK, maxBytes: 1000 }))).length, 1000);
  });

  test('a connection lost mid-body is a network error', async () => {
    const response = await outboundRequest(`${server.origin}/cut-body`, { allow: LOOPBACK });
    await refused(readBody(response), 'network');
  });

  test('a final 5xx or 4xx is an http_status failure carrying the status', async () => {
    for (const code of [500, 503, 404]) {
      const error = await refused(outboundRequest(`${server.origin}/status?code=${code}`, { allow: LOOPBACK }), 'http_status');
      assert.equal(error.status, code);
      assert.equal(error.message, `127.0.0.1:${server.port} answered HTTP ${code}`);
    }
  });
});

describe('outboundRequest: what is sent', () => {
  test('method, headers and body are sent as given, with a User-Agent unless one is given', async () => {
    const body = Buffer.from('{"type":"followup.created"}');
    const response = await outboundRequest(`${server.origin}/echo`, { allow: LOOPBACK, method: 'post', body, headers: { 'Content-Type': 'application/json', 'X-GetBill-Signature': 'abc' } });
    assert.equal(response.status, 200);
    const echoed = JSON.parse((await readBody(response)).toString());
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.body, body.toString());
    assert.equal(echoed.headers['content-length'], String(body.length));
    assert.equal(echoed.headers['x-getbill-signature'], 'abc');
    assert.equal(echoed.headers['user-agent'], 'Relance');
    const own = await outboundRequest(`${server.origin}/echo`, { allow: LOOPBACK, headers: { 'User-Agent': 'probe' } });
    assert.equal(JSON.parse((await readBody(own)).toString()).headers['user-agent'], 'probe');
  });
});

describe('outboundRequest: https', () => {
  let secure: TestServer;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relance-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=tls.test',
      '-addext', 'subjectAltName=DNS:tls.test,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    secure = await startServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
  });

  after(async () => {
    await secure.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One outboundRequest in a process that trusts the test certificate (test/fixtures/outbound-fetch.ts). */
  async function fetchTrusting(url: string, options: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/fixtures/outbound-fetch.ts', url, JSON.stringify(options)], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') },
      timeout: WAIT_MS,
    });
    return JSON.parse(stdout);
  }

  test('an https URL is fetched, its certificate checked against the name given, and the connect timeout stops at the handshake', async () => {
    const port = secure.port;
    const [byName, byAddress, wrongName] = await Promise.all([
      // Answers after twice the connect timeout: the connect timer must end with the TLS handshake
      // (which must itself fit in it on a busy machine, three processes starting at once).
      fetchTrusting(`https://tls.test:${port}/slow?ms=10000`, { allow: '127.0.0.1', resolve: { 'tls.test': '127.0.0.1' }, connectTimeoutMs: 5000, timeoutMs: 30_000 }),
      fetchTrusting(`${secure.origin}/ok`, { allow: '127.0.0.1' }),
      // Resolved to the same address, but the certificate does not name it.
      fetchTrusting(`https://other.test:${port}/ok`, { allow: '127.0.0.1', resolve: { 'other.test': '127.0.0.1' } }),
    ]);
    assert.deepEqual(byName, { status: 200, body: 'late' });
    assert.deepEqual(byAddress, { status: 200, body: 'hello' });
    assert.equal(wrongName.reason, 'network');
    assert.equal(wrongName.message, `The connection to other.test:${port} failed (ERR_TLS_CERT_ALTNAME_INVALID)`);
  });

  test('a certificate nobody vouches for is refused', async () => {
    await refused(outboundRequest(`${secure.origin}/ok`, { allow: LOOPBACK }), 'network');
  });

  test('a redirect from https to plain http is refused unless allowed', async () => {
    const url = `${secure.origin}/redirect?to=${encodeURIComponent(`${server.origin}/ok`)}`;
    const [refusal, allowed] = await Promise.all([
      fetchTrusting(url, { allow: '127.0.0.1' }),
      fetchTrusting(url, { allow: '127.0.0.1', allowHttpsToHttp: true }),
    ]);
    assert.deepEqual(refusal, { reason: 'bad_redirect', message: `127.0.0.1:${secure.port} redirected from https to plain http` });
    assert.deepEqual(allowed, { status: 200, body: 'hello' });
  });
});

describe('AllowList', () => {
  test('an address entry matches that address, a range its addresses, a host entry that host name alone', () => {
    const { allow, problems } = AllowList.parse('192.0.2.7, 10.0.0.0/8, fd00::/8, ::1, minio.internal');
    assert.deepEqual(problems, []);
    assert.equal(allow.permits('x.test', '192.0.2.7'), true);
    assert.equal(allow.permits('x.test', '192.0.2.8'), false);
    assert.equal(allow.permits('x.test', '10.200.0.1'), true);
    assert.equal(allow.permits('x.test', 'fd12::1'), true);
    assert.equal(allow.permits('x.test', '0:0:0:0:0:0:0:1'), true, 'compared as addresses, not as text');
    assert.equal(allow.permits('x.test', '::ffff:10.0.0.1'), false, 'an IPv4 range does not cover IPv4-mapped addresses');
    assert.equal(allow.permits('minio.internal', '172.16.0.1'), true);
    assert.equal(allow.permits('minio.internal.', '172.16.0.1'), false);
    assert.equal(AllowList.EMPTY.permits('localhost', '127.0.0.1'), false);
  });
});
