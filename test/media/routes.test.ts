/**
 * GET and HEAD /media/<key>: the local driver's signed URLs, served by the app. The signature,
 * the expiry, ranges, and every kind of bad URL: always a 4xx in the error envelope, never a 500.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { newObjectKey } from '../../src/storage/object-key.js';
import { S3BlobStore } from '../../src/storage/s3-store.js';
import { mediaLinkPath } from '../../src/storage/signed-media-url.js';
import { pastMoment } from '../helpers/processes.js';
import { body, setup, type Response } from '../helpers/setup.js';

const ctx = await setup();
const BYTES = randomBytes(10_000);
const KEY = newObjectKey('audio');
await ctx.storage.put(KEY, Readable.from([BYTES]), { contentType: 'audio/mpeg', maxBytes: 1024 * 1024 });

/** The path and query of a fresh signed URL (the app is reached with inject). */
async function signedPath(key = KEY, options: { expiresInSeconds?: number; filename?: string; contentType?: string } = {}): Promise<string> {
  const { url } = await ctx.storage.signedUrl(key, { expiresInSeconds: 3600, ...options });
  const parsed = new URL(url);
  assert.equal(parsed.origin, 'http://localhost');
  return parsed.pathname + parsed.search;
}

function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET'): Promise<Response> {
  return ctx.app.inject({ method, url, headers });
}

/** The error envelope; a HEAD answer has the status and headers only. */
function assertError(response: Response, status: number, message: string | RegExp): void {
  assert.equal(response.statusCode, status, response.body.slice(0, 300));
  assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(response.headers['content-disposition'], undefined, 'no media header on an error');
  if (response.raw.req.method === 'HEAD') return;
  assert.deepEqual(Object.keys(body(response)), ['error', 'message', 'code']);
  if (typeof message === 'string') assert.equal(body(response).message, message);
  else assert.match(body(response).message, message);
}

const UNSIGNED = 'The media URL is not signed: it needs its expires and signature parameters';
const INVALID = 'The media URL signature does not match: use the URL exactly as it was given out';
const EXPIRED = 'The media URL has expired: read the followup again for a fresh one';
const MALFORMED = 'Malformed media URL: the path must be /media/<kind>/<id> exactly as it was given out';

/** `url` with its query parameter `name` set to `value` (or removed when undefined). */
function withParam(url: string, name: string, value: string | undefined): string {
  const parsed = new URL(url, 'http://localhost');
  if (value === undefined) parsed.searchParams.delete(name);
  else parsed.searchParams.set(name, value);
  return parsed.pathname + parsed.search;
}

describe('a signed URL', () => {
  test('serves the bytes with their type, length, disposition, cache and sniffing headers', async () => {
    const response = await get(await signedPath());
    assert.equal(response.statusCode, 200);
    assert.ok(response.rawPayload.equals(BYTES));
    assert.equal(response.headers['content-type'], 'audio/mpeg');
    assert.equal(response.headers['content-length'], '10000');
    assert.equal(response.headers['accept-ranges'], 'bytes');
    assert.equal(response.headers['content-disposition'], `inline; filename="${KEY.slice('audio/'.length)}"`);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(String(response.headers['cache-control']))?.[1]);
    assert.ok(maxAge > 3590 && maxAge <= 3601, String(response.headers['cache-control']));
    assert.ok(response.headers['x-request-id']);
  });

  test('HEAD gives the same headers and no body', async () => {
    const response = await get(await signedPath(), {}, 'HEAD');
    assert.equal(response.statusCode, 200);
    assert.equal(response.rawPayload.length, 0);
    assert.equal(response.headers['content-length'], '10000');
    assert.equal(response.headers['content-type'], 'audio/mpeg');
    assert.equal(response.headers['accept-ranges'], 'bytes');
  });

  test('a filename and a type the URL was signed with are served', async () => {
    const response = await get(await signedPath(KEY, { filename: 'appel du 22 janvier.mp3', contentType: 'audio/ogg' }));
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'audio/ogg');
    assert.equal(response.headers['content-disposition'], 'inline; filename="appel du 22 janvier.mp3"');
    const quoted = await get(await signedPath(KEY, { filename: 'a "quoted" name; x=y.mp3' }));
    assert.equal(quoted.headers['content-disposition'], `inline; filename="a _quoted_ name; x=y.mp3"; filename*=UTF-8''a%20%22quoted%22%20name%3B%20x%3Dy.mp3`);
  });

  test('an empty object is a 200 with no body', async () => {
    const key = newObjectKey('pdf');
    await ctx.storage.put(key, Readable.from([]), { contentType: 'application/pdf', maxBytes: 10 });
    const response = await get(await signedPath(key));
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-length'], '0');
    assert.equal(response.rawPayload.length, 0);
    const ranged = await get(await signedPath(key), { range: 'bytes=0-' });
    assertError(ranged, 416, 'Range not satisfiable: the file is 0 bytes');
    assert.equal(ranged.headers['content-range'], 'bytes */0');
  });

  test('a key signed but since deleted is a 404', async () => {
    const key = newObjectKey('audio');
    await ctx.storage.put(key, Readable.from([Buffer.from('gone soon')]), { contentType: 'audio/wav', maxBytes: 100 });
    const url = await signedPath(key);
    assert.equal((await get(url)).statusCode, 200);
    await ctx.storage.delete(key);
    assertError(await get(url), 404, 'Media not found');
    assertError(await get(url, {}, 'HEAD'), 404, 'Media not found');
  });
});

describe('a URL that was not signed as it is', () => {
  test('no expires or no signature: 403 saying what is missing', async () => {
    const url = await signedPath();
    for (const bad of [`/media/${KEY}`, withParam(url, 'signature', undefined), withParam(url, 'expires', undefined)]) {
      assertError(await get(bad), 403, UNSIGNED);
    }
  });

  test('a tampered signature: 403, including one that decodes to the same bytes', async () => {
    const url = await signedPath();
    const signature = new URL(url, 'http://localhost').searchParams.get('signature')!;
    assert.equal(signature.length, 43);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    // The last character of 43 carries 2 spare bits: 'A' and 'B' there may decode alike.
    for (const bad of [flip(signature, 10), flip(signature, 42), signature.slice(0, 42), `${signature}A`, '', signature.toUpperCase(), `${signature}=`]) {
      if (bad === signature) continue;
      assertError(await get(withParam(url, 'signature', bad)), 403, INVALID);
    }
  });

  test("a tampered key: another object's key with this signature is 403", async () => {
    const other = newObjectKey('audio');
    await ctx.storage.put(other, Readable.from([Buffer.from('other')]), { contentType: 'audio/mpeg', maxBytes: 100 });
    const url = await signedPath();
    assertError(await get(url.replace(KEY, other)), 403, INVALID);
    assertError(await get(url.replace(KEY, `pdf/${KEY.slice('audio/'.length)}`)), 403, INVALID);
  });

  test('a tampered expiry, filename or type: 403', async () => {
    const url = await signedPath(KEY, { filename: 'a.mp3', contentType: 'audio/mpeg' });
    const expires = Number(new URL(url, 'http://localhost').searchParams.get('expires'));
    for (const [name, value] of [
      ['expires', String(expires + 1)], ['expires', String(expires + 86_400)], ['expires', `0${expires}`], ['expires', `${expires}.0`],
      ['expires', '-1'], ['expires', 'soon'], ['expires', ''], ['expires', '9'.repeat(400)],
      ['filename', 'b.mp3'], ['filename', undefined], ['type', 'text/html'], ['type', undefined],
    ] as const) {
      assertError(await get(withParam(url, name, value)), 403, INVALID);
    }
    // A parameter given twice is an array to the query parser: not the signed value.
    assertError(await get(`${url}&expires=${expires}`), 403, INVALID);
    assertError(await get(`${url}&signature=x`), 403, INVALID);
  });

  test('an expired one: 403 saying it expired (its signature holds)', async () => {
    const expires = Math.floor(Date.now() / 1000) - 1;
    assertError(await get(mediaLinkPath(ctx.keys.media, { key: KEY, expires })), 403, EXPIRED);
    // Signed under another key: not ours, whatever its expiry.
    assertError(await get(mediaLinkPath(randomBytes(32), { key: KEY, expires: expires + 3600 })), 403, INVALID);
  });

  test('one that expires in seconds works, then answers 403', async () => {
    // Long enough to be served first on a busy machine.
    const { url, expiresAt } = await ctx.storage.signedUrl(KEY, { expiresInSeconds: 3 });
    const path = new URL(url).pathname + new URL(url).search;
    assert.equal((await get(path)).statusCode, 200);
    await pastMoment(expiresAt, 50);
    assertError(await get(path), 403, EXPIRED);
  });
});

describe('ranges', () => {
  const cases: [string, number, [number, number] | undefined][] = [
    ['bytes=0-9', 206, [0, 9]],
    ['bytes=9990-', 206, [9990, 9999]],
    ['bytes=-5', 206, [9995, 9999]],
    ['bytes=-20000', 206, [0, 9999]],
    ['bytes=5000-99999999', 206, [5000, 9999]],
    ['bytes=9999-9999', 206, [9999, 9999]],
    ['Bytes = 1-2 ', 206, [1, 2]],
    ['bytes=1-2,', 206, [1, 2]],
    // Malformed, another unit, several ranges: ignored, the whole file.
    ['bytes=abc', 200, undefined],
    ['bytes=5-1', 200, undefined],
    ['bytes=-', 200, undefined],
    ['bytes=1-2-3', 200, undefined],
    ['bytes=0x10-20', 200, undefined],
    ['bytes 0-1', 200, undefined],
    ['items=0-1', 200, undefined],
    ['bytes=0-1,3-4', 200, undefined],
    ['', 200, undefined],
    ['bytes=', 200, undefined],
  ];
  for (const [range, status, served] of cases) {
    test(`Range: ${JSON.stringify(range)} is ${status}`, async () => {
      for (const method of ['GET', 'HEAD'] as const) {
        const response = await get(await signedPath(), { range }, method);
        assert.equal(response.statusCode, status, `${method} ${response.body}`);
        const [start, end] = served ?? [0, BYTES.length - 1];
        assert.equal(response.headers['content-length'], String(end - start + 1));
        assert.equal(response.headers['content-range'], served && `bytes ${start}-${end}/${BYTES.length}`);
        assert.equal(response.headers['content-type'], 'audio/mpeg');
        if (method === 'GET') assert.ok(response.rawPayload.equals(BYTES.subarray(start, end + 1)));
        else assert.equal(response.rawPayload.length, 0);
      }
    });
  }

  test('a range that starts past the end is a 416 with Content-Range: bytes */size', async () => {
    for (const range of ['bytes=10000-', 'bytes=10000-10005', 'bytes=99999999999999999999-', 'bytes=-0']) {
      for (const method of ['GET', 'HEAD'] as const) {
        const response = await get(await signedPath(), { range }, method);
        assert.equal(response.statusCode, 416, range);
        assert.equal(response.headers['content-range'], 'bytes */10000');
        assertError(response, 416, 'Range not satisfiable: the file is 10000 bytes');
      }
    }
  });
});

describe('bad paths', () => {
  /** A request as sent on the wire, path untouched (inject and fetch would normalise `..`). */
  let listening: Promise<string> | undefined;
  async function raw(path: string): Promise<{ status: number; body: string }> {
    listening ??= ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const { hostname, port } = new URL(await listening);
    return new Promise((resolve, reject) => {
      const request = http.request({ host: hostname, port, path, timeout: 10_000 }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: response.statusCode!, body: text }));
      });
      request.on('timeout', () => request.destroy(new Error(`no answer to ${path}`)));
      request.on('error', reject);
      request.end();
    });
  }

  test('a key with .., encoded slashes or dots, a trailing slash or junk: 4xx, never 500, never the file', async () => {
    const query = new URL(await signedPath(), 'http://localhost').search;
    const id = KEY.slice('audio/'.length);
    for (const path of [
      `/media/../secret.key${query}`, `/media/audio/../../secret.key${query}`, `/media/..%2F..%2Fsecret.key${query}`,
      `/media/audio%2F${id}${query}`, `/media/audio%2f${id}${query}`, `/media/%2e%2e/secret.key${query}`, `/media/audio/${id}/${query}`,
      `/media/audio/${id}%00${query}`, `/media/audio/${id}/..${query}`, `/media//audio/${id}${query}`, `/media/${query}`, '/media/',
      `/media/audio/${'a'.repeat(5_000)}${query}`, `/media/audio/${id}%zz${query}`, `/media/AUDIO/${id}${query}`, `/media/audio\\${id}${query}`,
    ]) {
      const response = await raw(path);
      assert.ok(response.status >= 400 && response.status < 500, `${path}: ${response.status} ${response.body}`);
      assert.equal(JSON.parse(response.body).error, true, path);
    }
    assert.equal((await raw(`/media/audio%2F${id}${query}`)).body, JSON.stringify({ error: true, message: MALFORMED, code: 400 }));
  });

  test('other methods are 405 naming GET and HEAD', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: await signedPath() });
    assert.equal(response.statusCode, 405);
    assert.equal(response.headers.allow, 'GET, HEAD');
  });

  test('arbitrary paths, queries and Range headers never give a 500', async () => {
    const valid = await signedPath();
    const text = fc.string({ unit: 'binary', maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, fc.constant(KEY)), fc.dictionary(fc.constantFrom('expires', 'signature', 'filename', 'type', 'x'), text), fc.option(text), fc.boolean(), async (key, params, range, signed) => {
        const url = signed ? valid : `/media/${encodeURI(key)}?${new URLSearchParams(params)}`;
        const headers: Record<string, string> = {};
        if (range !== null) headers.range = range.replace(/[^\x20-\x7e]/g, '');
        const response = await ctx.app.inject({ method: 'GET', url, headers });
        assert.ok(response.statusCode < 500, `${response.statusCode} for ${url} ${JSON.stringify(headers)}: ${response.body}`);
      }),
      { numRuns: 300 },
    );
  });
});

test('with the S3 driver, /media serves nothing: the signed URLs point at the bucket', async () => {
  // A real S3 driver, never called: the route is simply not registered for it.
  const storage = new S3BlobStore({ bucket: 'relance', region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: undefined });
  const app = await buildApp({ pool: ctx.pool, keys: ctx.keys, logger: pino({ level: 'silent' }), storage });
  try {
    const response = await app.inject({ method: 'GET', url: await signedPath() });
    assertError(response, 404, /^Route GET \/media\/audio\/.+ not found$/);
  } finally {
    await app.close();
    storage.destroy();
  }
});
