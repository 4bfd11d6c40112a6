import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Settings } from '../config.js';
import {
  type BlobHead, type BlobRead, type BlobStore, type ByteRange, type PutOptions, type PutResult, type SignedUrl, type SignedUrlOptions,
  checkPutOptions, checkSignedUrlOptions, MAX_URL_TTL_SECONDS, RangeNotSatisfiable,
} from './blob-store.js';
import { ByteMeter } from './byte-meter.js';
import { inlineDisposition } from './content-disposition.js';
import { assertObjectKey } from './object-key.js';

export interface S3Limits {
  connectionTimeoutMs: number;
  /** From sending a request (a part's bytes included) to its response's headers. */
  requestTimeoutMs: number;
  /** Longest silence on a socket, a response's body included. */
  socketTimeoutMs: number;
  /** Attempts in all, with the SDK's backoff, for errors that a retry can fix. */
  maxAttempts: number;
}

/** No call waits for ever: a 5 MiB part on a slow link fits in the request timeout. */
export const S3_LIMITS: S3Limits = { connectionTimeoutMs: 5_000, requestTimeoutMs: 60_000, socketTimeoutMs: 30_000, maxAttempts: 3 };
/** S3's smallest part; with 2 in flight, an upload holds about 15 MiB whatever its size. */
const PART_SIZE = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

/** Objects in an S3 bucket (AWS or any S3-compatible server); signed URLs are presigned GETs. */
export class S3BlobStore implements BlobStore {
  readonly driver = 's3';
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(settings: S3Settings, limits: S3Limits = S3_LIMITS) {
    this.bucket = settings.bucket;
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint && { endpoint: settings.endpoint }),
      forcePathStyle: settings.forcePathStyle,
      ...(settings.credentials && { credentials: settings.credentials }),
      maxAttempts: limits.maxAttempts,
      retryMode: 'standard',
      requestHandler: {
        connectionTimeout: limits.connectionTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        socketTimeout: limits.socketTimeoutMs,
        // Without it, a request past requestTimeout is only logged as a warning.
        throwOnRequestTimeout: true,
      },
      // S3-compatible servers often reject the streamed trailing checksums (aws-chunked) the SDK
      // sends to AWS by default; TLS and the server's own MD5 check the bytes there.
      ...(settings.endpoint && { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    });
  }

  async put(key: string, body: Readable, options: PutOptions): Promise<PutResult> {
    assertObjectKey(key);
    checkPutOptions(options);
    const meter = new ByteMeter(options.maxBytes);
    const feeding = pipeline(body, meter);
    // Observed below; until then, a failing body must not count as an unhandled rejection.
    feeding.catch(() => {});
    // A PUT when the body fits one part, else a multipart upload: S3 makes either visible whole
    // and at once, and an upload that fails is aborted (its parts deleted).
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: meter, ContentType: options.contentType },
      partSize: PART_SIZE,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      await feeding;
    } catch (error) {
      meter.destroy();
      await feeding.catch(() => {});
      throw meter.tooLarge ?? error;
    }
    return { size: meter.byteCount, sha256: meter.sha256() };
  }

  async head(key: string): Promise<BlobHead | undefined> {
    assertObjectKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, contentType: head.ContentType ?? 'application/octet-stream' };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead | undefined> {
    assertObjectKey(key);
    if (range && range.end < range.start) throw new RangeNotSatisfiable(undefined);
    try {
      const object = await this.client.send(new GetObjectCommand({
        Bucket: this.bucket, Key: key, ...(range && { Range: `bytes=${range.start}-${range.end}` }),
      }));
      const contentType = object.ContentType ?? 'application/octet-stream';
      const body = object.Body as Readable;
      if (!range) return { body, size: object.ContentLength ?? 0, contentType, range: undefined };
      const served = parseContentRange(object.ContentRange);
      if (!served) {
        body.destroy();
        throw new Error(`S3 answered a range request for ${key} without a valid Content-Range`);
      }
      return { body, size: served.size, contentType, range: { start: served.start, end: served.end } };
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === 'NoSuchKey') return undefined;
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416) throw new RangeNotSatisfiable(undefined);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertObjectKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async signedUrl(key: string, options: SignedUrlOptions): Promise<SignedUrl> {
    assertObjectKey(key);
    checkSignedUrlOptions(options);
    // Signed as of a whole second, which is what X-Amz-Date says: expiresAt is then exact. The
    // second is the current one, already begun, so one more is added (up to SigV4's limit of a
    // week): the link lives at least as long as asked, as the local driver's does.
    const now = Date.now();
    const signingDate = new Date(Math.floor(now / 1000) * 1000);
    const expiresIn = Math.min(options.expiresInSeconds + (now % 1000 === 0 ? 0 : 1), MAX_URL_TTL_SECONDS);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ...(options.contentType && { ResponseContentType: options.contentType }),
      ...(options.filename && { ResponseContentDisposition: inlineDisposition(options.filename) }),
    });
    const url = await getSignedUrl(this.client, command, { expiresIn, signingDate });
    return { url, expiresAt: new Date(signingDate.getTime() + expiresIn * 1000) };
  }

  /** Closes the client's pooled connections. */
  destroy(): void {
    this.client.destroy();
  }
}

/** HEAD answers carry no body, so a missing bucket looks like a missing object here. */
function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404;
}

/** `bytes <start>-<end>/<size>`, or undefined for anything else. */
function parseContentRange(header: string | undefined): { start: number; end: number; size: number } | undefined {
  if (!header?.startsWith('bytes ')) return undefined;
  const dash = header.indexOf('-');
  const slash = header.indexOf('/');
  if (dash < 0 || slash < dash) return undefined;
  const parts = [header.slice(6, dash), header.slice(dash + 1, slash), header.slice(slash + 1)];
  if (parts.some((part) => part.length === 0)) return undefined;
  const [start, end, size] = parts.map(Number) as [number, number, number];
  if (![start, end, size].every(Number.isSafeInteger) || start > end || end >= size) return undefined;
  return { start, end, size };
}
