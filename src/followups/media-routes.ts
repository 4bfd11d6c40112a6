import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { parse as parseContentType } from 'content-type';
import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { AppContext } from '../app-context.js';
import { apiRoutes, operation } from '../http/api-routes.js';
import { Envelope, Nullable, ok } from '../http/envelope.js';
import { ErrorResponseSchema, errors, owned } from '../http/errors.js';
import { named } from '../http/openapi-schema.js';
import { isContentType, TooLarge } from '../storage/blob-store.js';
import { newObjectKey } from '../storage/object-key.js';
import { followupPresenter } from './media.js';
import { findFollowup, setMedia, type MediaKind } from './repository.js';
import { callerOf } from './routes.js';
import { FollowupPath, FollowupResponse } from './schema.js';

/** What each kind of file accepts. */
const ACCEPTS: Record<MediaKind, { label: string; accepts: (type: string) => boolean }> = {
  audio: { label: 'audio/*', accepts: (type) => type.startsWith('audio/') && type.length > 'audio/'.length },
  pdf: { label: 'application/pdf', accepts: (type) => type === 'application/pdf' },
};

const Recording = named('Recording', Type.Object({
  state: Nullable(Type.String({ enum: ['pending', 'stored', 'failed'], description: 'null: no recording; pending: being downloaded from audio_url' })),
  error: Nullable(Type.String({ description: 'Why the download failed (state failed)' })),
  content_type: Nullable(Type.String()),
  size: Nullable(Type.Integer({ description: 'Bytes' })),
}));

/**
 * Files of a followup: `PUT /followups/{id}/audio|pdf` streams the body into blob storage
 * (never whole in memory), replacing the previous file once the new one is stored; `DELETE`
 * removes it. Ownership is settled before a byte of the body is read.
 */
export const followupMediaRoutes: FastifyPluginAsyncTypebox<AppContext> = async (app, context) => {
  const { pool, ids, tokens, storage, media } = context;
  const present = followupPresenter(context);
  const route = apiRoutes(app, tokens, 'followups', FollowupPath);
  // Any content type reaches the handler as the raw stream; the handler says which it takes (415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const followupId = (text: string) => {
    const id = ids.decode('followup', text);
    if (id === undefined) throw errors.notFound('followup');
    return id;
  };

  for (const kind of ['audio', 'pdf'] as const) {
    const [Kind, file] = kind === 'audio' ? ['Audio', 'call recording'] : ['Pdf', 'PDF document'];
    route.put(`/followups/:id/${kind}`, { scope: 'followups:write', bodyLimit: media.maxBytes }, {
      ...operation(`uploadFollowup${Kind}`, `Upload the ${file}`, `The body is the file itself, \`Content-Type: ${ACCEPTS[kind].label}\`, ` +
        `at most ${media.maxBytes} bytes. Replaces the previous file; recorded in the history.`),
      response: { 200: FollowupResponse, 413: ErrorResponseSchema, 415: ErrorResponseSchema },
    }, async (request) => {
      const id = followupId(request.params.id);
      const contentType = uploadType(request, kind);
      owned(await findFollowup(request.auth.companyId, id, pool), 'followup');
      if (!(request.body instanceof Readable)) throw errors.emptyUpload();
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > media.maxBytes) throw errors.payloadTooLarge(media.maxBytes);

      const key = newObjectKey(kind);
      let size: number;
      try {
        ({ size } = await storage.put(key, request.body, { contentType, maxBytes: media.maxBytes }));
      } catch (error) {
        if (error instanceof TooLarge) throw errors.payloadTooLarge(media.maxBytes);
        // The client went away (or cut the body short): nothing was stored, and it is not our failure.
        if (request.raw.aborted || request.raw.destroyed || !request.raw.complete) throw errors.uploadInterrupted();
        throw error;
      }
      if (size === 0) {
        await storage.delete(key);
        throw errors.emptyUpload();
      }
      const result = await setMedia(request.auth.companyId, id, kind, { key, contentType, size }, callerOf(request).source, pool)
        .catch(async (error: unknown) => {
          await storage.delete(key).catch(() => {});
          throw error;
        });
      if (!result) {
        // Deleted (or moved) while the file was arriving.
        await storage.delete(key).catch(() => {});
        throw errors.notFound('followup');
      }
      if (result.replacedKey) await removeQuietly(result.replacedKey);
      return ok('File stored successfully', await present(result.row));
    });

    route.delete(`/followups/:id/${kind}`, 'followups:write', {
      ...operation(`deleteFollowup${Kind}`, `Delete the stored ${file}`),
      response: { 200: FollowupResponse },
    }, async (request) => {
      const id = followupId(request.params.id);
      owned(await findFollowup(request.auth.companyId, id, pool), 'followup');
      const result = await setMedia(request.auth.companyId, id, kind, null, callerOf(request).source, pool);
      if (!result) throw errors.notFound('followup');
      if (result.replacedKey) await removeQuietly(result.replacedKey);
      return ok('File deleted successfully', await present(result.row));
    });
  }

  route.get('/followups/:id/recording', 'followups:read', {
    ...operation('getFollowupRecording', "The state of the followup's recording",
      'A recording given as `audio_url` is downloaded into storage by a background job: `pending`, then `stored` or `failed` with the reason.'),
    response: { 200: Envelope(Recording, 'The recording state') },
  }, async (request) => {
    const row = owned(await findFollowup(request.auth.companyId, followupId(request.params.id), pool), 'followup');
    return ok('Success', {
      state: row.recording_state ?? (row.audio_key ? 'stored' : null),
      error: row.recording_error,
      content_type: row.audio_content_type,
      size: row.audio_size === null ? null : Number(row.audio_size),
    });
  });

  /** After the change committed: a file no row points to any more. A failure leaves an orphan, never a broken link. */
  async function removeQuietly(key: string) {
    await storage.delete(key).catch((error) => context.log.warn({ err: error }, 'could not delete a replaced media object'));
  }
};

/** The upload's media type, without parameters, or 415 naming what the route takes. */
function uploadType(request: FastifyRequest, kind: MediaKind): string {
  const header = request.headers['content-type'];
  let type: string | undefined;
  try {
    type = header ? parseContentType(header).type : undefined;
  } catch {
    type = undefined;
  }
  // A type storage cannot keep beside the file (longer than 255 characters) is refused here,
  // before the body is read, not by the store once the upload has started.
  if (!type || !isContentType(type) || !ACCEPTS[kind].accepts(type)) throw errors.unsupportedUpload(ACCEPTS[kind].label);
  return type;
}
