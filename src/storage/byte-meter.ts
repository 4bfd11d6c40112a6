import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { TooLarge } from './blob-store.js';

/**
 * Passes bytes through, counting and hashing them, and fails with TooLarge at the first byte past
 * `maxBytes`: a put stops reading an oversized body there, instead of storing it first.
 */
export class ByteMeter extends Transform {
  /** Not `size`: lib-storage would take a Body's `size` for its length, and expect 0 parts. */
  byteCount = 0;
  /** Set once the limit was crossed: the error the put reports, whatever else failed after it. */
  tooLarge: TooLarge | undefined;
  private readonly hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.byteCount += chunk.length;
    if (this.byteCount > this.maxBytes) {
      this.tooLarge = new TooLarge(this.maxBytes);
      done(this.tooLarge);
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  /** Hex SHA-256 of everything that went through; call once the stream has ended. */
  sha256(): string {
    return this.hash.digest('hex');
  }
}
