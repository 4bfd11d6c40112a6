import { randomBytes, hkdfSync } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeKey } from '../config.js';
import { syncDirectory } from '../files/sync-directory.js';

/** Purpose-bound keys derived from the one master key, so no key serves two jobs. */
export interface Keys {
  /** AES-128 key for the opaque IDs. */
  ids: Buffer;
  /** AES-256-GCM key that seals access tokens. */
  tokens: Buffer;
  /** HMAC pepper for stored client-secret hashes. */
  secrets: Buffer;
  /** HMAC key that derives each followup's open-pixel token (src/tracking/tokens.ts). */
  tracking: Buffer;
  /** HMAC key that signs local media URLs (`/media/<key>?expires=…&signature=…`). */
  media: Buffer;
  /** AES-256-GCM key that seals webhook signing secrets at rest. */
  webhooks: Buffer;
  /**
   * Names the master key without revealing it or any other derived key: stored in the database,
   * so that a start with another key is refused (src/runtime.ts).
   */
  fingerprint: Buffer;
}

export function deriveKeys(master: Buffer): Keys {
  const derive = (info: string, length: number) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `relance:${info}`, length));
  return {
    ids: derive('ids', 16), tokens: derive('tokens', 32), secrets: derive('secrets', 32), tracking: derive('tracking', 32),
    media: derive('media', 32), webhooks: derive('webhooks', 32), fingerprint: derive('fingerprint', 32),
  };
}

/** The first 16 hex digits of a fingerprint: enough to tell two keys apart in a message. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 16);
}

/** RELANCE_SECRET_KEY if set, else the key kept in DATA_DIR/secret.key; undefined if neither exists. */
export async function readMasterKey(secretKey: string | undefined, dataDir: string): Promise<Buffer | undefined> {
  if (secretKey) {
    const key = decodeKey(secretKey);
    if (!key) throw new Error('RELANCE_SECRET_KEY must be at least 32 bytes, hex- or base64-encoded');
    return key;
  }
  const file = join(dataDir, 'secret.key');
  try {
    const key = decodeKey(await readFile(file, 'utf8'));
    if (!key) throw new Error(`${file} does not hold a valid key; remove it only if no data depends on it`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The master key: RELANCE_SECRET_KEY if set, otherwise the one kept (mode 0600) in
 * DATA_DIR/secret.key, generated if missing, so IDs and tokens survive restarts of a local
 * install. Only for a database that has no key yet: see openRuntime.
 */
export async function loadMasterKey(secretKey: string | undefined, dataDir: string): Promise<Buffer> {
  const existing = await readMasterKey(secretKey, dataDir);
  if (existing) return existing;
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  const file = join(dataDir, 'secret.key');
  // Written and synced under another name, then linked into place: a kill never leaves a
  // half-written key, and the link fails if another process made one in the meantime (then
  // theirs is used).
  const partial = join(dataDir, `.secret.key.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(partial, 'wx', 0o600);
    try {
      await handle.writeFile(key.toString('hex') + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(partial, file);
    await syncDirectory(dataDir);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return loadMasterKey(undefined, dataDir);
  } finally {
    await rm(partial, { force: true });
  }
}

