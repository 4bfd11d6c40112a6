import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after } from 'node:test';
import type { S3Settings } from '../../src/config.js';
import { S3BlobStore } from '../../src/storage/s3-store.js';
import { REPO_ROOT, sandbox } from './processes.js';

export const S3_BUCKET = 'relance-test';

export interface S3Server {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** The folder s3rver keeps the bucket in. */
  dir: string;
  /** Settings for the S3 driver, as STORAGE_DRIVER=s3 with S3_ENDPOINT and path style would give. */
  settings: S3Settings;
  /** A new S3 driver on this server, closed when the file's tests end. */
  store(): S3BlobStore;
}

/**
 * s3rver in a process of its own, on loopback, on a free port, in a temporary folder, with one
 * bucket; stopped when the file's tests end. The S3 driver talks to it over HTTP as to AWS:
 * SigV4-signed requests to an endpoint, path-style, static credentials (s3rver's S3RVER/S3RVER).
 */
export async function startS3rver(): Promise<S3Server> {
  const box = sandbox();
  const dir = await box.dataDir();
  const child = box.spawn(process.execPath, [
    join(REPO_ROOT, 'node_modules/s3rver/bin/s3rver.js'), '--directory', dir, '--address', '127.0.0.1', '--port', '0', '--silent',
    '--configure-bucket', S3_BUCKET,
  ], { label: 's3rver' });
  const port = await child.waitFor('s3rver to listen', () => {
    const line = child.stdoutLines.find((l) => l.startsWith('S3rver listening on '));
    return line ? Number(line.slice(line.lastIndexOf(':') + 1)) : undefined;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const settings: S3Settings = {
    bucket: S3_BUCKET, region: 'us-east-1', endpoint, forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
  return {
    endpoint,
    dir,
    settings,
    store: () => {
      const store = new S3BlobStore(settings);
      after(() => store.destroy());
      return store;
    },
  };
}

/**
 * An HTTP proxy in front of `endpoint` that writes down each request and the status it got
 * (`DELETE /relance-test/audio/…?uploadId=… 405`): s3rver's own log does not name them. Bodies
 * stream through untouched; every socket is timed out.
 */
export async function recordingProxy(endpoint: string): Promise<{ endpoint: string; requests: string[] }> {
  const target = new URL(endpoint);
  const requests: string[] = [];
  const proxy = http.createServer((incoming, outgoing) => {
    const forwarded = http.request(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers, timeout: 30_000 },
      (answer) => {
        requests.push(`${incoming.method} ${incoming.url} ${answer.statusCode}`);
        outgoing.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('timeout', () => forwarded.destroy(new Error('s3rver did not answer')));
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  proxy.requestTimeout = 30_000;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => {
    proxy.closeAllConnections();
    proxy.close(() => resolve());
  }));
  return { endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, requests };
}
