import type { Task } from 'graphile-worker';
import type { Queryable } from '../db/pool.js';
import { OutboundError, outboundRequest, type AllowList } from '../net/outbound.js';
import { isContentType, TooLarge, type BlobStore } from '../storage/blob-store.js';
import { newObjectKey } from '../storage/object-key.js';
import { finishIngest } from './repository.js';

export const INGEST_TASK = 'ingest_recording';

/**
 * A whole download, DNS to last byte: long enough for MEDIA_MAX_BYTES (100 MiB) at about 3 Mbit/s,
 * short enough that a server trickling bytes cannot hold a worker slot for long.
 */
export const INGEST_TIMEOUT_MS = 5 * 60_000;

/** Attempts of one download before the recording is marked failed; the worker backs off between them. */
export const INGEST_ATTEMPTS = 5;

export interface IngestPayload {
  followup_id: number;
  url: string;
}

export interface IngestDeps {
  storage: BlobStore;
  /** Largest recording downloaded (MEDIA_MAX_BYTES). */
  maxBytes: number;
  /** Private destinations downloads may reach (OUTBOUND_ALLOW; tests only). */
  allow: AllowList;
  /** The whole download, headers and body. */
  timeoutMs: number;
}

/** Failures that a later attempt cannot fix: the recording is marked failed at once. */
const PERMANENT = new Set(['invalid_url', 'blocked_address', 'too_large', 'too_many_redirects', 'bad_redirect']);

/**
 * Downloads a recording given as `audio_url` into blob storage, through the SSRF-safe outbound
 * client, with a deadline and a size cap. Transient failures (timeouts, network errors, 5xx,
 * 429) throw, so the worker retries with exponential backoff; the last attempt, a permanent
 * failure or a 4xx marks the recording `failed` with the reason. Harmless to run twice: the
 * outcome is applied only while the followup still waits for that URL (repository.finishIngest),
 * and a file stored for nothing is deleted.
 */
export function ingestRecording(deps: IngestDeps): Task {
  return async (payload, helpers) => {
    const { followup_id: id, url } = payload as IngestPayload;
    const last = helpers.job.attempts >= helpers.job.max_attempts;
    const key = newObjectKey('audio');
    let stored: { size: number; contentType: string } | undefined;
    try {
      const response = await outboundRequest(url, { timeoutMs: deps.timeoutMs, maxBytes: deps.maxBytes, allow: deps.allow });
      const contentType = audioType(response.headers['content-type']);
      if (!contentType) {
        response.body.destroy();
        return await settle(id, url, { failed: 'The URL did not answer with an audio file (Content-Type audio/*)' }, helpers, deps, key);
      }
      const { size } = await deps.storage.put(key, response.body, { contentType, maxBytes: deps.maxBytes });
      stored = { size, contentType };
    } catch (error) {
      await deps.storage.delete(key).catch(() => {});
      const reason = failureOf(error, deps.maxBytes);
      if (reason.permanent || last) return settle(id, url, { failed: reason.message }, helpers, deps, key);
      throw error;
    }
    await settle(id, url, { stored: { key, ...stored } }, helpers, deps, key);
  };
}

async function settle(
  id: number,
  url: string,
  outcome: { stored: { key: string; contentType: string; size: number } } | { failed: string },
  helpers: Parameters<Task>[1],
  deps: IngestDeps,
  key: string,
): Promise<void> {
  const result = await helpers.withPgClient((client: Queryable) => finishIngest(id, url, outcome, client));
  if ('stored' in outcome && !result.applied) await deps.storage.delete(key).catch(() => {});
  if (result.replacedKey) await deps.storage.delete(result.replacedKey).catch(() => {});
  helpers.logger.info(`recording of followup ${id}: ${'stored' in outcome ? 'stored' : 'failed'}${result.applied ? '' : ' (moot: the followup changed)'}`);
}

/** The response's audio media type, or undefined for anything else (a malformed type included: no retry would fix it). */
function audioType(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type && type.startsWith('audio/') && type.length <= 100 && isContentType(type) ? type : undefined;
}

function failureOf(error: unknown, maxBytes: number): { permanent: boolean; message: string } {
  if (error instanceof TooLarge) return { permanent: true, message: `The recording is larger than ${maxBytes} bytes` };
  if (error instanceof OutboundError) {
    if (error.reason === 'http_status') {
      const status = error.status ?? 0;
      return { permanent: status >= 400 && status < 500 && status !== 408 && status !== 429, message: error.message };
    }
    return { permanent: PERMANENT.has(error.reason), message: error.message };
  }
  return { permanent: false, message: 'The recording could not be stored' };
}
