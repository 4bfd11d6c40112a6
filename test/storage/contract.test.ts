/**
 * What every BlobStore driver promises, checked on both: the local driver on a temporary folder
 * with its URLs served by the app's /media route on a real listening server, and the S3 driver
 * against s3rver over HTTP, its presigned URLs fetched as a browser would.
 */
import type { LocalBlobStore } from '../../src/storage/local-store.js';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { RangeNotSatisfiable, TooLarge, type BlobRead, type BlobStore } from '../../src/storage/blob-store.js';
import { newObjectKey } from '../../src/storage/object-key.js';
import { pastMoment } from '../helpers/processes.js';
import { startS3rver } from '../helpers/s3.js';
import { setup } from '../helpers/setup.js';
import { reopenLocalStore } from '../helpers/storage.js';

const MIB = 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

interface Driver {
  name: string;
  store: BlobStore;
  /** Every name in the storage: objects, and anything a failed put could have left. */
  contents(): Promise<string[]>;
}

async function localDriver(): Promise<Driver> {
  const ctx = await setup();
  const origin = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  const store = reopenLocalStore(ctx.storage as LocalBlobStore, ctx.keys, origin);
  return {
    name: 'local',
    store,
    contents: async () => (await readdir(store.dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name),
  };
}

async function s3Driver(): Promise<Driver> {
  const server = await startS3rver();
  const store = server.store();
  const client = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: server.settings.credentials! });
  return {
    name: 's3',
    store,
    contents: async () => {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: server.settings.bucket }));
      return (listed.Contents ?? []).map((object) => object.Key!);
    },
  };
}

/** `bytes` in chunks of at most 64 KiB, as a socket delivers them. */
function streamOf(bytes: Buffer): Readable {
  return Readable.from((function* () {
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024) yield bytes.subarray(offset, offset + 64 * 1024);
  })());
}

async function bytesOf(read: BlobRead | undefined): Promise<Buffer> {
  assert.ok(read, 'the object exists');
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const put = (store: BlobStore, key: string, bytes: Buffer, contentType = 'audio/mpeg', maxBytes = 100 * MIB) =>
  store.put(key, streamOf(bytes), { contentType, maxBytes });

for (const makeDriver of [localDriver, s3Driver]) {
  const driver = await makeDriver();
  const { store } = driver;

  describe(`the ${driver.name} driver`, () => {
    test('put streams the body in and reports its size and SHA-256; head and get give back the bytes and type', async () => {
      const key = newObjectKey('audio');
      const bytes = randomBytes(300 * 1024 + 7);
      assert.deepEqual(await put(store, key, bytes, 'audio/mpeg'), { size: bytes.length, sha256: sha256(bytes) });
      assert.deepEqual(await store.head(key), { size: bytes.length, contentType: 'audio/mpeg' });
      const read = await store.get(key);
      assert.equal(read?.size, bytes.length);
      assert.equal(read?.contentType, 'audio/mpeg');
      assert.equal(read?.range, undefined);
      assert.ok((await bytesOf(read)).equals(bytes));
    });

    test('a body of several 5 MiB parts is stored whole', async () => {
      const key = newObjectKey('audio');
      const bytes = randomBytes(11 * MIB + 1);
      assert.deepEqual(await put(store, key, bytes, 'audio/wav'), { size: bytes.length, sha256: sha256(bytes) });
      assert.deepEqual(await store.head(key), { size: bytes.length, contentType: 'audio/wav' });
      assert.equal(sha256(await bytesOf(await store.get(key))), sha256(bytes));
      const across = await store.get(key, { start: 5 * MIB - 10, end: 5 * MIB + 9 });
      assert.ok((await bytesOf(across)).equals(bytes.subarray(5 * MIB - 10, 5 * MIB + 10)), 'a range across the first part boundary');
    });

    test('an empty object, and a content type with parameters', async () => {
      const key = newObjectKey('pdf');
      assert.deepEqual(await put(store, key, Buffer.alloc(0), 'application/pdf; qs=0.9'), { size: 0, sha256: sha256(Buffer.alloc(0)) });
      assert.deepEqual(await store.head(key), { size: 0, contentType: 'application/pdf; qs=0.9' });
      assert.equal((await bytesOf(await store.get(key))).length, 0);
    });

    test('get of a range: inclusive offsets, an end past the object clipped, a start past it refused', async () => {
      const key = newObjectKey('audio');
      const bytes = randomBytes(10_000);
      await put(store, key, bytes);
      const middle = await store.get(key, { start: 100, end: 199 });
      assert.deepEqual(middle?.range, { start: 100, end: 199 });
      assert.equal(middle?.size, 10_000);
      assert.ok((await bytesOf(middle)).equals(bytes.subarray(100, 200)));
      const tail = await store.get(key, { start: 9_990, end: 20_000 });
      assert.deepEqual(tail?.range, { start: 9_990, end: 9_999 });
      assert.ok((await bytesOf(tail)).equals(bytes.subarray(9_990)));
      const last = await store.get(key, { start: 9_999, end: 9_999 });
      assert.ok((await bytesOf(last)).equals(bytes.subarray(9_999)));
      await assert.rejects(store.get(key, { start: 10_000, end: 10_005 }), RangeNotSatisfiable);
    });

    test('head and get of a missing key are undefined; delete removes, and deleting again is no error', async () => {
      const key = newObjectKey('audio');
      assert.equal(await store.head(key), undefined);
      assert.equal(await store.get(key), undefined);
      await store.delete(key);
      await put(store, key, randomBytes(10));
      await store.delete(key);
      assert.equal(await store.head(key), undefined);
      assert.equal(await store.get(key), undefined);
      await store.delete(key);
    });

    test('a put replaces the object whole, its content type with it', async () => {
      const key = newObjectKey('audio');
      await put(store, key, randomBytes(50_000), 'audio/mpeg');
      const second = randomBytes(1_234);
      await put(store, key, second, 'audio/ogg');
      assert.deepEqual(await store.head(key), { size: 1_234, contentType: 'audio/ogg' });
      assert.ok((await bytesOf(await store.get(key))).equals(second));
    });

    test('exactly maxBytes is stored; one byte more is TooLarge and leaves nothing, nor changes the previous object', async () => {
      const key = newObjectKey('audio');
      assert.equal((await put(store, key, randomBytes(1_000), 'audio/mpeg', 1_000)).size, 1_000);
      const before = await driver.contents();
      const kept = await bytesOf(await store.get(key));

      await assert.rejects(put(store, key, randomBytes(1_001), 'audio/wav', 1_000), (error) => error instanceof TooLarge && error.maxBytes === 1_000);
      const fresh = newObjectKey('audio');
      await assert.rejects(put(store, fresh, randomBytes(1_001), 'audio/wav', 1_000), TooLarge);
      // Past the first 5 MiB part: the S3 driver had started a multipart upload, and aborts it.
      await assert.rejects(put(store, fresh, randomBytes(7 * MIB), 'audio/wav', 6 * MIB), TooLarge);

      assert.deepEqual(await driver.contents(), before);
      assert.equal(await store.head(fresh), undefined);
      assert.deepEqual(await store.head(key), { size: 1_000, contentType: 'audio/mpeg' });
      assert.ok((await bytesOf(await store.get(key))).equals(kept));
    });

    test('a body that fails midway leaves the previous object as it was', async () => {
      const key = newObjectKey('audio');
      const kept = randomBytes(2_000);
      await put(store, key, kept);
      const broken = new Readable({ read() {} });
      broken.push(randomBytes(1_000));
      setImmediate(() => broken.destroy(new Error('connection reset by the client')));
      await assert.rejects(store.put(key, broken, { contentType: 'audio/wav', maxBytes: MIB }), /connection reset/);
      assert.deepEqual(await store.head(key), { size: 2_000, contentType: 'audio/mpeg' });
      assert.ok((await bytesOf(await store.get(key))).equals(kept));
      assert.ok(!(await driver.contents()).some((name) => name.startsWith('.')), 'no partial file');
    });

    // The local driver's own promise (temporary file, then rename). On S3 it is the service's:
    // each PUT is visible whole, the last one winning; s3rver 3.7.1 writes a PUT straight into
    // the object's file, so concurrent PUTs of one key interleave there and cannot show it.
    // Relance itself never writes a key twice: every upload and download gets a new one.
    if (driver.name === 'local') test('concurrent puts to one key end with one of them, whole, with its own type', async () => {
      const key = newObjectKey('audio');
      const bodies = Array.from({ length: 8 }, (_, i) => ({ bytes: Buffer.alloc(256 * 1024 + i * 1_000, i), type: `audio/x-test-${i}` }));
      await Promise.all(bodies.map(({ bytes, type }) => put(store, key, bytes, type)));
      const read = await store.get(key);
      const stored = await bytesOf(read);
      const winner = bodies.find(({ bytes }) => bytes.equals(stored));
      assert.ok(winner, `the object is one of the bodies, not a mix (${stored.length} bytes, first ${stored[0]}, last ${stored.at(-1)})`);
      assert.equal(read?.contentType, winner.type);
    });

    test('a key that is not one of newObjectKey is refused before any I/O', async () => {
      for (const key of ['../secret.key', '/etc/passwd', 'audio/../../secret', 'audio/' + 'a'.repeat(21), 'video/' + 'a'.repeat(22), 'audio%2F' + 'a'.repeat(22), '']) {
        await assert.rejects(store.head(key), { name: 'InvalidObjectKey' }, key);
        await assert.rejects(put(store, key, Buffer.from('x')), { name: 'InvalidObjectKey' }, key);
        await assert.rejects(store.signedUrl(key, { expiresInSeconds: 60 }), { name: 'InvalidObjectKey' }, key);
      }
    });

    test('a signed URL fetched over HTTP gives the same bytes, type and filename; after its expiry, 403', async () => {
      const key = newObjectKey('audio');
      const bytes = randomBytes(MIB + 3);
      await put(store, key, bytes, 'audio/mpeg');
      const before = Date.now();
      const signed = await store.signedUrl(key, { expiresInSeconds: 60, filename: 'call 42.mp3' });
      // At least as long as asked, rounded up to a whole second at most.
      assert.ok(signed.expiresAt.getTime() >= before + 60_000 && signed.expiresAt.getTime() <= Date.now() + 61_000, `${signed.expiresAt.toISOString()} for ${new Date(before).toISOString()}`);
      const response = await fetch(signed.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'audio/mpeg');
      assert.equal(response.headers.get('content-disposition'), 'inline; filename="call 42.mp3"');
      assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes), 'byte-identical');
      const ranged = await fetch(signed.url, { headers: { range: 'bytes=1048570-' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.headers.get('content-range'), `bytes 1048570-1048578/${bytes.length}`);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(1_048_570)));

      // Expiry on its own short-lived URL: the download above may take longer than a second on
      // a busy machine, and a URL that expired mid-test would make the 206 above a 403.
      const shortLived = await store.signedUrl(key, { expiresInSeconds: 3 });
      const valid = await fetch(shortLived.url, { headers: { range: 'bytes=0-0' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      assert.equal(valid.status, 206, 'served while valid');
      await valid.arrayBuffer();
      await pastMoment(shortLived.expiresAt);
      const expired = await fetch(shortLived.url, { headers: { range: 'bytes=0-0' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      assert.equal(expired.status, 403, 'refused once expired');
      await expired.arrayBuffer();
    });

    test('a signed URL may set the type it is served with', async () => {
      const key = newObjectKey('pdf');
      await put(store, key, Buffer.from('%PDF-1.7'), 'application/octet-stream');
      const signed = await store.signedUrl(key, { expiresInSeconds: 60, contentType: 'application/pdf', filename: 'relevé de compte.pdf' });
      const response = await fetch(signed.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/pdf');
      assert.equal(response.headers.get('content-disposition'), `inline; filename="relev_ de compte.pdf"; filename*=UTF-8''relev%C3%A9%20de%20compte.pdf`);
      assert.equal(await response.text(), '%PDF-1.7');
      assert.ok(signed.expiresAt.getTime() - Date.now() > 55_000);
    });

    test('a URL for the longest time allowed, a week, is signed and served', async () => {
      const key = newObjectKey('audio');
      await put(store, key, Buffer.from('week'));
      const before = Date.now();
      const signed = await store.signedUrl(key, { expiresInSeconds: 7 * 24 * 3600 });
      assert.ok(signed.expiresAt.getTime() >= before + 7 * 24 * 3600 * 1000 - 1_000, signed.expiresAt.toISOString());
      assert.ok(signed.expiresAt.getTime() <= Date.now() + 7 * 24 * 3600 * 1000 + 1_000, signed.expiresAt.toISOString());
      const response = await fetch(signed.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'week');
    });

    test('bad arguments are refused: a content type that is not one, a negative limit, an expiry out of bounds', async () => {
      const key = newObjectKey('audio');
      for (const contentType of ['', 'audio', 'audio/mpeg\r\nSet-Cookie: a=b', ' audio/mpeg', 'a'.repeat(251) + '/mpeg']) {
        await assert.rejects(put(store, key, Buffer.from('x'), contentType), RangeError, JSON.stringify(contentType));
      }
      await assert.rejects(put(store, key, Buffer.from('x'), 'audio/mpeg', -1), RangeError);
      for (const expiresInSeconds of [0, 1.5, 7 * 24 * 3600 + 1]) await assert.rejects(store.signedUrl(key, { expiresInSeconds }), RangeError);
      for (const filename of ['', 'a/b', 'a\\b', 'a\nb', 'x'.repeat(256)]) await assert.rejects(store.signedUrl(key, { expiresInSeconds: 60, filename }), RangeError);
      assert.equal(await store.head(key), undefined);
    });
  });
}
