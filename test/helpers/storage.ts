import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Keys } from '../../src/security/keys.js';
import { LocalBlobStore } from '../../src/storage/local-store.js';

/**
 * A real local store in a folder of its own, removed when the file's tests end. Its signed URLs
 * start with `publicUrl`: the default suits `app.inject`; a test on a listening server opens a
 * second store on the same folder with the server's address (`reopenLocalStore`).
 */
export async function testStore(keys: Keys, publicUrl = 'http://localhost'): Promise<LocalBlobStore> {
  const dir = await mkdtemp(join(tmpdir(), 'relance-media-'));
  after(() => rm(dir, { recursive: true, force: true }));
  return new LocalBlobStore({ dir, publicUrl, signingKey: keys.media });
}

/** The same folder and key as `store`, signing URLs for `publicUrl`. */
export function reopenLocalStore(store: LocalBlobStore, keys: Keys, publicUrl: string): LocalBlobStore {
  return new LocalBlobStore({ dir: store.dir, publicUrl, signingKey: keys.media });
}
