import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { problemsOf } from '../helpers/config.js';
import { publicBaseUrl } from '../../src/storage/open-store.js';

const S3 = { STORAGE_DRIVER: 's3', S3_BUCKET: 'relance-media' };

describe('storage settings', () => {
  test('by default, files go to DATA_DIR/media, up to 100 MiB, with URLs valid an hour', () => {
    const config = loadConfig({ DATA_DIR: '/srv/relance' });
    assert.deepEqual(config.storage, { driver: 'local', dir: '/srv/relance/media' });
    assert.deepEqual(config.media, { maxBytes: 100 * 1024 * 1024, urlTtlSeconds: 3600 });
    assert.deepEqual(loadConfig({}).storage, { driver: 'local', dir: resolve('./data/media') });
  });

  test('MEDIA_MAX_BYTES and MEDIA_URL_TTL_SECONDS are read and bounded', () => {
    assert.deepEqual(loadConfig({ MEDIA_MAX_BYTES: '1048576', MEDIA_URL_TTL_SECONDS: '604800' }).media, { maxBytes: 1_048_576, urlTtlSeconds: 604_800 });
    assert.deepEqual(problemsOf({ MEDIA_MAX_BYTES: '0', MEDIA_URL_TTL_SECONDS: '604801' }), [
      'MEDIA_MAX_BYTES must be an integer from 1 to 5368709120 (got "0")',
      'MEDIA_URL_TTL_SECONDS must be an integer from 1 to 604800 (got "604801")',
    ]);
    assert.deepEqual(problemsOf({ MEDIA_MAX_BYTES: '100MiB' }), ['MEDIA_MAX_BYTES must be an integer from 1 to 5368709120 (got "100MiB")']);
  });

  test('an S3 bucket: AWS by default, in us-east-1, virtual-hosted style, with the SDK\'s default credentials', () => {
    assert.deepEqual(loadConfig(S3).storage, {
      driver: 's3', bucket: 'relance-media', region: 'us-east-1', endpoint: undefined, forcePathStyle: false, credentials: undefined,
    });
  });

  test('an S3-compatible server: endpoint, region, path style and static credentials', () => {
    const config = loadConfig({
      ...S3, S3_REGION: 'eu-west-3', S3_ENDPOINT: 'https://minio.internal:9000/', S3_FORCE_PATH_STYLE: 'on',
      S3_ACCESS_KEY_ID: 'AKIAEXAMPLE', S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });
    assert.deepEqual(config.storage, {
      driver: 's3', bucket: 'relance-media', region: 'eu-west-3', endpoint: 'https://minio.internal:9000', forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    });
  });

  test('every problem is reported at once, each naming its variable, and no secret is repeated', () => {
    const problems = problemsOf({
      STORAGE_DRIVER: 's3', S3_REGION: 'EU West', S3_ENDPOINT: 'ftp://files.example.com', S3_FORCE_PATH_STYLE: 'yes',
      S3_SECRET_ACCESS_KEY: 'do-not-print-me', MEDIA_URL_TTL_SECONDS: '0',
    });
    assert.deepEqual(problems, [
      'S3_BUCKET is required with STORAGE_DRIVER=s3',
      'S3_REGION must be a region name such as eu-west-3 (lowercase letters, digits, hyphens)',
      'S3_ENDPOINT must be an http(s) URL such as https://s3.example.com',
      'S3_FORCE_PATH_STYLE must be on or off',
      "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither to use the AWS SDK's default credentials",
      'MEDIA_URL_TTL_SECONDS must be an integer from 1 to 604800 (got "0")',
    ]);
    assert.ok(!problems.join('\n').includes('do-not-print-me'));
  });

  test('a driver that does not exist, a bucket name S3 refuses, an endpoint that is no URL', () => {
    assert.deepEqual(problemsOf({ STORAGE_DRIVER: 'gcs' }), ['STORAGE_DRIVER must be local or s3 (got "gcs")']);
    for (const bucket of ['ab', 'Relance', 'relance_media', '-relance', 'a'.repeat(64)]) {
      assert.deepEqual(problemsOf({ ...S3, S3_BUCKET: bucket }), ['S3_BUCKET must be a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens'], bucket);
    }
    assert.deepEqual(problemsOf({ ...S3, S3_ENDPOINT: 'minio:9000' }), ['S3_ENDPOINT must be an http(s) URL such as https://s3.example.com']);
  });

  test('bucket settings with the local driver are a mistake, not ignored: the files would stay on this disk', () => {
    assert.deepEqual(problemsOf({ S3_BUCKET: 'relance-media' }), ['S3_BUCKET is set but STORAGE_DRIVER is local: set STORAGE_DRIVER=s3 to use a bucket']);
    assert.deepEqual(problemsOf({ STORAGE_DRIVER: 'local', S3_BUCKET: 'x', S3_ENDPOINT: 'http://minio' }), [
      'S3_BUCKET, S3_ENDPOINT are set but STORAGE_DRIVER is local: set STORAGE_DRIVER=s3 to use a bucket',
    ]);
  });

  test('local signed URLs start with PUBLIC_URL, else the address Relance listens on', () => {
    assert.equal(publicBaseUrl(loadConfig({ PUBLIC_URL: 'https://relance.example.com/' })), 'https://relance.example.com');
    assert.equal(publicBaseUrl(loadConfig({ PORT: '3456' })), 'http://127.0.0.1:3456');
    assert.equal(publicBaseUrl(loadConfig({ HOST: '0.0.0.0', PORT: '80' })), 'http://127.0.0.1:80');
    assert.equal(publicBaseUrl(loadConfig({ HOST: '::1', PORT: '3000' })), 'http://[::1]:3000');
  });
});
