import type { BlobStore } from '../storage/blob-store.js';
import { formatTimestamp } from '../time/timestamp.js';
import type { AppContext } from '../app-context.js';
import type { FollowupRow, MediaKind } from './repository.js';
import type { Followup } from './schema.js';
import { toFollowup } from './serialize.js';

/** What a read shows of a followup's files: fresh pre-signed URLs, or the URLs as given. */
export interface MediaUrls {
  audio_url: string | null;
  pdf_url: string | null;
  /** Present only when one of the two URLs is pre-signed. */
  media_urls_expire_at?: string;
}

const EXTENSIONS: Record<string, string> = {
  'application/pdf': 'pdf', 'audio/mpeg': 'mp3', 'audio/mp3': 'mp3', 'audio/wav': 'wav', 'audio/x-wav': 'wav',
  'audio/ogg': 'ogg', 'audio/webm': 'webm', 'audio/mp4': 'm4a', 'audio/aac': 'aac', 'audio/flac': 'flac',
};

/** A download name that says what the file is without revealing any id. */
function filename(kind: MediaKind, contentType: string | null): string {
  const extension = contentType !== null && Object.hasOwn(EXTENSIONS, contentType) ? EXTENSIONS[contentType] : 'bin';
  return `${kind === 'audio' ? 'recording' : 'document'}.${extension}`;
}

/**
 * Signs a URL for each stored file of the row, valid `ttlSeconds` from now; a file not stored
 * (a recording still being downloaded, or never stored) shows the URL the client gave.
 */
export async function mediaUrls(row: FollowupRow, storage: BlobStore, ttlSeconds: number): Promise<MediaUrls> {
  const sign = async (kind: MediaKind) => {
    const key = storedKey(row, kind);
    if (!key) return undefined;
    const contentType = kind === 'audio' ? row.audio_content_type : row.pdf_content_type;
    return storage.signedUrl(key, { expiresInSeconds: ttlSeconds, contentType: contentType ?? undefined, filename: filename(kind, contentType) });
  };
  const [audio, pdf] = await Promise.all([sign('audio'), sign('pdf')]);
  // Signed a moment apart, the two may fall in different seconds: the earlier expiry is the one
  // both URLs are good until.
  const expiries = [audio?.expiresAt, pdf?.expiresAt].filter((date) => date !== undefined);
  const expiresAt = expiries.length > 0 ? new Date(Math.min(...expiries.map((date) => date.getTime()))) : undefined;
  return {
    audio_url: audio?.url ?? row.audio_url,
    pdf_url: pdf?.url ?? row.pdf_url,
    ...(expiresAt && { media_urls_expire_at: formatTimestamp(expiresAt) }),
  };
}

/** The key of the row's stored file of that kind, if it is to be shown. */
function storedKey(row: FollowupRow, kind: MediaKind): string | null {
  // A recording being downloaded, or whose download failed, shows the URL given until it is stored.
  return kind === 'audio' ? (row.recording_state === 'stored' ? row.audio_key : null) : row.pdf_key;
}

/**
 * The one way a route shows a followup: its API object, with fresh signed URLs for its stored
 * files. A row without any (most of them) is serialized as it is, with no signing.
 */
export function followupPresenter({ ids, storage, media }: Pick<AppContext, 'ids' | 'storage' | 'media'>) {
  return async (row: FollowupRow): Promise<Followup> =>
    storedKey(row, 'audio') || storedKey(row, 'pdf') ? toFollowup(row, ids, await mediaUrls(row, storage, media.urlTtlSeconds)) : toFollowup(row, ids);
}
