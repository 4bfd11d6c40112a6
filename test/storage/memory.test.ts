/**
 * A 100 MiB body goes through put, and back through its signed URL, without the process holding
 * it: the resident set grows by a few buffers, not by the file. A file of its own, so no other
 * test's allocations are counted; s3rver runs in a process of its own. The bound is generous
 * (a sanity bound, not a measurement: the figures are printed).
 */
import type { LocalBlobStore } from '../../src/storage/local-store.js';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { newObjectKey } from '../../src/storage/object-key.js';
import { startS3rver } from '../helpers/s3.js';
import { setup } from '../helpers/setup.js';
import { reopenLocalStore } from '../helpers/storage.js';

const MIB = 1024 * 1024;
const SIZE = 100 * MIB;
/** Resident-set growth allowed while 100 MiB streams through: generous, and still far below the file's size. */
const BOUND = 64 * MIB;

/** SIZE pseudo-random bytes in 64 KiB chunks, made as they are read; `digest()` once read whole. */
function generated(): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  const seed = randomBytes(64 * 1024);
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= SIZE) return void this.push(null);
      const chunk = Buffer.from(seed);
      chunk.writeUInt32BE(sent / (64 * 1024), 0);
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** Runs `work` while sampling the resident set every 10 ms; returns the peak growth over the start. */
async function peakGrowth(work: () => Promise<void>): Promise<{ before: number; peak: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return { before, peak: Math.max(peak, process.memoryUsage().rss) };
}

const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

async function check(name: string, store: BlobStore): Promise<void> {
  // A warm-up put and download first, so the code paths and their buffers are in place.
  const warm = newObjectKey('audio');
  await store.put(warm, Readable.from([randomBytes(6 * MIB)]), { contentType: 'audio/wav', maxBytes: SIZE });
  await (await fetch((await store.signedUrl(warm, { expiresInSeconds: 60 })).url, { signal: AbortSignal.timeout(60_000) })).arrayBuffer();

  const key = newObjectKey('audio');
  const body = generated();
  let sha256: string | undefined;
  const upload = await peakGrowth(async () => {
    ({ sha256 } = await store.put(key, body.stream, { contentType: 'audio/wav', maxBytes: SIZE }));
  });
  assert.equal(sha256, body.digest());
  assert.deepEqual(await store.head(key), { size: SIZE, contentType: 'audio/wav' });

  const download = createHash('sha256');
  let received = 0;
  const served = await peakGrowth(async () => {
    const response = await fetch((await store.signedUrl(key, { expiresInSeconds: 300 })).url, { signal: AbortSignal.timeout(120_000) });
    assert.equal(response.status, 200);
    for await (const chunk of response.body!) {
      download.update(chunk);
      received += chunk.length;
    }
  });
  assert.equal(received, SIZE);
  assert.equal(download.digest('hex'), sha256, 'the download is byte-identical');

  console.log(
    `${name}: put of ${mib(SIZE)}: RSS ${mib(upload.before)} → peak ${mib(upload.peak)} (+${mib(upload.peak - upload.before)}); ` +
      `download through the signed URL: ${mib(served.before)} → peak ${mib(served.peak)} (+${mib(served.peak - served.before)})`,
  );
  assert.ok(upload.peak - upload.before < BOUND, `put grew the resident set by ${mib(upload.peak - upload.before)}`);
  assert.ok(served.peak - served.before < BOUND, `the download grew the resident set by ${mib(served.peak - served.before)}`);
  await store.delete(key);
}

test('local driver: 100 MiB in through put and out through /media, memory flat', { timeout: 300_000 }, async () => {
  const ctx = await setup();
  const origin = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  await check('local', reopenLocalStore(ctx.storage as LocalBlobStore, ctx.keys, origin));
});

test('S3 driver: 100 MiB in through put (multipart) and out through a presigned URL, memory flat', { timeout: 300_000 }, async () => {
  const server = await startS3rver();
  await check('s3', server.store());
});
