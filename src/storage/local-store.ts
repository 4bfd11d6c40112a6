import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDirectory } from '../files/sync-directory.js';
import {
  checkPutOptions, checkSignedUrlOptions, isContentType, RangeNotSatisfiable,
  type BlobHead, type BlobRead, type BlobStore, type ByteRange, type PutOptions, type PutResult, type SignedUrl, type SignedUrlOptions,
} from './blob-store.js';
import { ByteMeter } from './byte-meter.js';
import { assertObjectKey } from './object-key.js';
import { mediaLinkPath } from './signed-media-url.js';

export interface LocalBlobStoreOptions {
  /** The folder objects live in (DATA_DIR/media): `<dir>/audio/<id>`, `<dir>/pdf/<id>`. */
  dir: string;
  /** Base of the signed URLs, such as https://relance.example.com: Relance serves them at /media/. */
  publicUrl: string;
  /** The derived `media` key that signs the URLs. */
  signingKey: Buffer;
}

// Each file starts with its content type: "RLM1", a 2-byte length, that many bytes of JSON.
// Kept in the same file, not beside it, so the one rename that replaces an object replaces its
// type with it: two concurrent puts can never leave one's bytes under the other's type.
const MAGIC = Buffer.from('RLM1');
const PREFIX_LENGTH = MAGIC.length + 2;
const MAX_HEADER_LENGTH = 1024;

/** Objects as files in one folder, written atomically; signed URLs are served by src/media/routes.ts. */
export class LocalBlobStore implements BlobStore {
  readonly driver = 'local';
  readonly dir: string;
  private readonly publicUrl: string;
  private readonly signingKey: Buffer;

  constructor(options: LocalBlobStoreOptions) {
    this.dir = options.dir;
    this.publicUrl = options.publicUrl;
    this.signingKey = options.signingKey;
  }

  async put(key: string, body: Readable, options: PutOptions): Promise<PutResult> {
    checkPutOptions(options);
    const path = this.pathOf(key);
    const folder = dirname(path);
    const meter = new ByteMeter(options.maxBytes);
    // Attached before any await: a body that fails meanwhile is this put's error, not an
    // unhandled 'error' event.
    const feeding = pipeline(body, meter);
    feeding.catch(() => {});
    // Same folder, so the rename is atomic; a leading dot, so it can never be taken for a key.
    const partial = join(folder, `.${key.slice(key.indexOf('/') + 1)}.${randomBytes(6).toString('hex')}.partial`);
    try {
      await mkdir(folder, { recursive: true, mode: 0o700 });
      await writeObjectFile(partial, options.contentType, meter);
      await feeding;
      await rename(partial, path);
    } catch (error) {
      meter.destroy();
      await feeding.catch(() => {});
      await rm(partial, { force: true });
      throw meter.tooLarge ?? error;
    }
    await syncDirectory(folder);
    return { size: meter.byteCount, sha256: meter.sha256() };
  }

  async head(key: string): Promise<BlobHead | undefined> {
    const opened = await this.open(key);
    if (!opened) return undefined;
    await opened.handle.close();
    return { size: opened.size, contentType: opened.contentType };
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead | undefined> {
    const opened = await this.open(key);
    if (!opened) return undefined;
    const { handle, size, contentType, headerLength } = opened;
    // The open handle pins this version of the file: a put or delete meanwhile does not change
    // what this read returns.
    let clipped: ByteRange | undefined;
    if (range) {
      if (range.start >= size || range.end < range.start) {
        await handle.close();
        throw new RangeNotSatisfiable(size);
      }
      clipped = { start: range.start, end: Math.min(range.end, size - 1) };
    }
    if (size === 0) {
      await handle.close();
      return { body: Readable.from([]), size, contentType, range: undefined };
    }
    const body = handle.createReadStream({ start: headerLength + (clipped?.start ?? 0), end: headerLength + (clipped?.end ?? size - 1) });
    return { body, size, contentType, range: clipped };
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await rm(path, { force: true });
    await syncDirectory(dirname(path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  async signedUrl(key: string, options: SignedUrlOptions): Promise<SignedUrl> {
    assertObjectKey(key);
    checkSignedUrlOptions(options);
    // Whole seconds, rounded up: the link lives at least as long as asked.
    const expires = Math.ceil(Date.now() / 1000) + options.expiresInSeconds;
    const path = mediaLinkPath(this.signingKey, { key, expires, filename: options.filename, contentType: options.contentType });
    return { url: `${this.publicUrl}${path}`, expiresAt: new Date(expires * 1000) };
  }

  private pathOf(key: string): string {
    assertObjectKey(key);
    return join(this.dir, key);
  }

  private async open(key: string): Promise<{ handle: FileHandle; size: number; contentType: string; headerLength: number } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const { size: fileSize } = await handle.stat();
      const buffer = Buffer.alloc(Math.min(MAX_HEADER_LENGTH, fileSize));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const { contentType, headerLength } = decodeHeader(buffer.subarray(0, bytesRead), key);
      return { handle, size: fileSize - headerLength, contentType, headerLength };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
}

/** A new file: the header, then the bytes, on disk (fsync) before it is closed. */
async function writeObjectFile(path: string, contentType: string, bytes: Readable): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  const header = encodeHeader(contentType);
  try {
    await handle.write(header, 0, header.length, 0);
  } catch (error) {
    await handle.close();
    throw error;
  }
  // The stream closes the handle once done, after an fsync (`flush`), or when it fails.
  await pipeline(bytes, handle.createWriteStream({ start: header.length, flush: true }));
}

function encodeHeader(contentType: string): Buffer {
  const json = Buffer.from(JSON.stringify({ contentType }));
  const prefix = Buffer.alloc(PREFIX_LENGTH);
  MAGIC.copy(prefix);
  prefix.writeUInt16BE(json.length, MAGIC.length);
  return Buffer.concat([prefix, json]);
}

function decodeHeader(buffer: Buffer, key: string): { contentType: string; headerLength: number } {
  const broken = () => new Error(`The stored object ${key} has no valid header: it was not written by Relance`);
  if (buffer.length < PREFIX_LENGTH || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) throw broken();
  const headerLength = PREFIX_LENGTH + buffer.readUInt16BE(MAGIC.length);
  if (headerLength > buffer.length) throw broken();
  let contentType: unknown;
  try {
    contentType = (JSON.parse(buffer.subarray(PREFIX_LENGTH, headerLength).toString('utf8')) as { contentType?: unknown }).contentType;
  } catch {
    throw broken();
  }
  if (typeof contentType !== 'string' || !isContentType(contentType)) throw broken();
  return { contentType, headerLength };
}
