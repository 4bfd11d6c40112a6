import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';

/** One tag per entity: an id of one type never decrypts as another. */
export const ID_TYPES = {
  company: 1, client: 2, debt: 3, followup: 4, payment: 5, tracking_event: 6, webhook: 7, webhook_delivery: 8, webhook_event: 9,
} as const;
export type IdType = keyof typeof ID_TYPES;

const ENCODED = /^[A-Za-z0-9_-]{22}$/;

/**
 * Opaque public IDs: AES-128 over a single block holding [type tag (1 byte), id (8 bytes,
 * big-endian), 7 zero bytes], base64url-encoded (22 characters). Decoding checks the tag and the
 * zero padding, so a forged or mistyped id is rejected without touching the database (a random
 * string passes with probability 2^-64).
 */
export class IdCodec {
  // One AES context each way for the life of the codec: ECB with no padding turns every whole
  // block given to update() into one block out and keeps no state between blocks, so the same
  // context serves every call (final() is never called). Building a context per id cost more
  // than the encryption itself.
  private readonly cipher: Cipher;
  private readonly decipher: Decipher;

  constructor(key: Buffer) {
    if (key.length !== 16) throw new Error('the ID key must be 16 bytes');
    this.cipher = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    this.decipher = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  }

  encode(type: IdType, id: number): string {
    const block = Buffer.alloc(16);
    block[0] = ID_TYPES[type];
    block.writeBigUInt64BE(BigInt(id), 1);
    return this.cipher.update(block).toString('base64url');
  }

  /** The internal id, or undefined when `text` is not a valid id of this type. */
  decode(type: IdType, text: string): number | undefined {
    if (!ENCODED.test(text)) return undefined;
    const raw = Buffer.from(text, 'base64url');
    // Base64 has several spellings of the same final bits; accept only the canonical one.
    if (raw.length !== 16 || raw.toString('base64url') !== text) return undefined;
    const block = this.decipher.update(raw);
    if (block.length !== 16 || block[0] !== ID_TYPES[type]) return undefined;
    for (let i = 9; i < 16; i++) if (block[i] !== 0) return undefined;
    const id = block.readBigUInt64BE(1);
    return id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : undefined;
  }
}
