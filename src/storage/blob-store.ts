import type { Readable } from 'node:stream';
import contentType from 'content-type';

/** Inclusive byte offsets, as in `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  /** A media type such as `audio/mpeg`, served back as the object's `Content-Type`. */
  contentType: string;
  /** More bytes than this and the put fails with TooLarge, leaving the key as it was. */
  maxBytes: number;
}

export interface PutResult {
  size: number;
  /** Hex SHA-256 of the bytes stored, computed while they streamed through. */
  sha256?: string;
}

export interface BlobHead {
  size: number;
  contentType: string;
}

export interface BlobRead extends BlobHead {
  /** The object's bytes, or only those of `range`. Read it or destroy it: it holds a file or a socket. */
  body: Readable;
  /** The bytes `body` holds, when a range was asked for (its end clipped to the object's last byte). */
  range: ByteRange | undefined;
}

export interface SignedUrlOptions {
  expiresInSeconds: number;
  /** Served as `Content-Type` instead of the stored type. */
  contentType?: string;
  /** Offered to the browser in `Content-Disposition: inline; filename=…`. */
  filename?: string;
}

export interface SignedUrl {
  url: string;
  expiresAt: Date;
}

/**
 * Where recordings and PDFs live: a folder (LocalBlobStore) or an S3-compatible bucket
 * (S3BlobStore), chosen by STORAGE_DRIVER. Keys come from newObjectKey; any other key is refused.
 */
export interface BlobStore {
  readonly driver: 'local' | 's3';
  /**
   * Streams `body` into the object: memory stays flat whatever its size. The object is replaced
   * whole or not at all (a reader sees the old bytes or the new, never a mix); a body over
   * `maxBytes` is a TooLarge error and leaves the key as it was.
   */
  put(key: string, body: Readable, options: PutOptions): Promise<PutResult>;
  head(key: string): Promise<BlobHead | undefined>;
  /** undefined if there is no such object; RangeNotSatisfiable if `range` starts past its end. */
  get(key: string, range?: ByteRange): Promise<BlobRead | undefined>;
  /** Removes the object; removing one that does not exist is not an error. */
  delete(key: string): Promise<void>;
  /** A URL anyone may GET the object with until `expiresAt`, without credentials. */
  signedUrl(key: string, options: SignedUrlOptions): Promise<SignedUrl>;
}

export class TooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`The body is larger than the limit of ${maxBytes} bytes`);
    this.name = 'TooLarge';
  }
}

export class RangeNotSatisfiable extends Error {
  constructor(readonly size: number | undefined) {
    super(`The range starts past the end of the object${size === undefined ? '' : ` (${size} bytes)`}`);
    this.name = 'RangeNotSatisfiable';
  }
}

/** Presigned S3 URLs live at most 7 days; the local driver keeps the same bound. */
export const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;
const MAX_CONTENT_TYPE_LENGTH = 255;
const MAX_FILENAME_LENGTH = 255;

/** The checks every driver makes on its arguments: a wrong one is the caller's bug, so they throw. */
export function checkPutOptions({ contentType: type, maxBytes }: PutOptions): void {
  checkContentType(type);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer (got ${maxBytes})`);
}

export function checkSignedUrlOptions({ expiresInSeconds, contentType: type, filename }: SignedUrlOptions): void {
  if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_URL_TTL_SECONDS) {
    throw new RangeError(`expiresInSeconds must be an integer from 1 to ${MAX_URL_TTL_SECONDS} (got ${expiresInSeconds})`);
  }
  if (type !== undefined) checkContentType(type);
  if (filename !== undefined && !isFilename(filename)) {
    throw new RangeError(`filename must be 1 to ${MAX_FILENAME_LENGTH} characters, without control characters, / or \\`);
  }
}

function checkContentType(type: string): void {
  if (!isContentType(type)) throw new RangeError(`contentType must be a media type such as audio/mpeg (got ${JSON.stringify(type.slice(0, 64))})`);
}

/** A media type (`type/subtype`, parameters allowed) short enough to keep beside an object. */
export function isContentType(type: string): boolean {
  if (type.length === 0 || type.length > MAX_CONTENT_TYPE_LENGTH) return false;
  // The parser trims what surrounds the type, line breaks included; a header value may not hold them.
  for (let i = 0; i < type.length; i++) {
    const c = type.charCodeAt(i);
    if (c <= 0x20 && !(c === 0x20 && i > 0 && i < type.length - 1)) return false;
    if (c >= 0x7f) return false;
  }
  try {
    contentType.parse(type);
    return true;
  } catch {
    return false;
  }
}

export function isFilename(name: string): boolean {
  if (name.length === 0 || name.length > MAX_FILENAME_LENGTH) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x2f || c === 0x5c) return false;
  }
  return true;
}
