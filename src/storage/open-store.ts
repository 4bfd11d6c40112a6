import type { Config } from '../config.js';
import type { Keys } from '../security/keys.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-store.js';

/**
 * The store STORAGE_DRIVER names. The AWS SDK is loaded only for `s3`: it adds a few hundred
 * milliseconds to every start that does not use it.
 */
export async function openBlobStore(config: Config, keys: Keys): Promise<BlobStore> {
  if (config.storage.driver === 's3') {
    const { S3BlobStore } = await import('./s3-store.js');
    return new S3BlobStore(config.storage);
  }
  return new LocalBlobStore({ dir: config.storage.dir, publicUrl: publicBaseUrl(config), signingKey: keys.media });
}

/** PUBLIC_URL, else the address Relance listens on, as a client on this machine reaches it. */
export function publicBaseUrl(config: Pick<Config, 'publicUrl' | 'host' | 'port'>): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}
