import { randomBytes, hkdfSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeKey } from '../config.js';

/** Purpose-bound keys derived from the one master key, so no key serves two jobs. */
export interface Keys {
  /** AES-128 key for the opaque IDs. */
  ids: Buffer;
  /** AES-256-GCM key that seals access tokens. */
  tokens: Buffer;
  /** HMAC pepper for stored client-secret hashes. */
  secrets: Buffer;
}

export function deriveKeys(master: Buffer): Keys {
  const derive = (info: string, length: number) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `relance:${info}`, length));
  return { ids: derive('ids', 16), tokens: derive('tokens', 32), secrets: derive('secrets', 32) };
}

/**
 * The master key: RELANCE_SECRET_KEY if set, otherwise one generated on first run and kept
 * (mode 0600) in DATA_DIR/secret.key, so IDs and tokens survive restarts of a local install.
 */
export async function loadMasterKey(secretKey: string | undefined, dataDir: string): Promise<Buffer> {
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
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  // 'wx' fails if another process created it in the meantime: then use theirs.
  try {
    await writeFile(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return loadMasterKey(undefined, dataDir);
  }
}
