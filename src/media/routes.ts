import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { errors } from '../http/errors.js';
import { RangeNotSatisfiable, type BlobHead, type BlobStore, type ByteRange } from '../storage/blob-store.js';
import { inlineDisposition } from '../storage/content-disposition.js';
import { isObjectKey } from '../storage/object-key.js';
import { MEDIA_PATH, mediaSignatureMatches, type MediaLink } from '../storage/signed-media-url.js';
import { onlyDigits, parseRange } from './byte-range.js';

/** Unix seconds have 10 digits until 2286; more cannot be a link Relance signed. */
const MAX_EXPIRES_DIGITS = 12;

/**
 * GET and HEAD /media/<key>?expires=…&signature=…: the signed URLs of the local driver (with S3
 * they point at the bucket, and nothing is served here). No token: the signature is the
 * credential, and it binds the key, the expiry and any filename or type override.
 */
export const mediaRoutes: FastifyPluginAsync<AppContext> = async (app, { storage, keys }) => {
  if (storage.driver !== 'local') return;
  app.route({
    method: ['GET', 'HEAD'],
    url: `${MEDIA_PATH}*`,
    // Links handed out in followups, not an operation to call: kept out of the OpenAPI document.
    schema: { hide: true },
    handler: async (request, reply) => {
      const link = signedLink(request, keys.media);
      const head = await storage.head(link.key);
      if (!head) throw errors.mediaNotFound();
      const range = parseRange(request.headers.range, head.size);
      if (range === 'unsatisfiable') throw unsatisfiable(reply, head.size);
      if (request.method === 'HEAD') {
        describe(reply, link, head, range && { ...range, size: head.size });
        return reply.send();
      }
      return sendObject(reply, storage, link, range);
    },
  });
};

/** The link the URL holds, once its signature and expiry are checked; else the 4xx that says why. */
function signedLink(request: FastifyRequest, secret: Buffer): MediaLink {
  // The key as sent, not percent-decoded: keys never need encoding, so `audio%2F…` or `..%2F`
  // is no key of ours, whatever it decodes to.
  const query = request.url.indexOf('?');
  const key = request.url.slice(MEDIA_PATH.length, query < 0 ? undefined : query);
  if (!isObjectKey(key)) throw errors.mediaKeyMalformed();
  const { expires, signature, filename, type } = request.query as Record<string, unknown>;
  if (expires === undefined || signature === undefined) throw errors.mediaLinkUnsigned();
  if (typeof expires !== 'string' || typeof signature !== 'string' || !isUnixTime(expires)) throw errors.mediaLinkInvalid();
  if ((filename !== undefined && typeof filename !== 'string') || (type !== undefined && typeof type !== 'string')) throw errors.mediaLinkInvalid();
  const link: MediaLink = { key, expires: Number(expires), filename, contentType: type };
  if (!mediaSignatureMatches(secret, link, signature)) throw errors.mediaLinkInvalid();
  if (Date.now() >= link.expires * 1000) throw errors.mediaLinkExpired();
  return link;
}

/** Digits as signMediaLink writes them: no sign, no leading zero, no other spelling of the number. */
function isUnixTime(text: string): boolean {
  if (text.length === 0 || text.length > MAX_EXPIRES_DIGITS || (text[0] === '0' && text.length > 1)) return false;
  return onlyDigits(text);
}

async function sendObject(reply: FastifyReply, storage: BlobStore, link: MediaLink, range: ByteRange | undefined) {
  let read;
  try {
    read = await storage.get(link.key, range);
  } catch (error) {
    // Replaced by a shorter file since the head: answered as if it had come first.
    if (error instanceof RangeNotSatisfiable && error.size !== undefined) throw unsatisfiable(reply, error.size);
    throw error;
  }
  if (!read) throw errors.mediaNotFound();
  describe(reply, link, read, read.range && { ...read.range, size: read.size });
  return reply.send(read.body);
}

/** The headers of a 200 or 206, for GET and HEAD alike. */
function describe(reply: FastifyReply, link: MediaLink, object: BlobHead, range: (ByteRange & { size: number }) | undefined): void {
  const remaining = Math.max(0, Math.floor((link.expires * 1000 - Date.now()) / 1000));
  if (range) reply.code(206).header('Content-Range', `bytes ${range.start}-${range.end}/${range.size}`);
  reply
    .header('Content-Type', link.contentType ?? object.contentType)
    .header('Content-Length', String(range ? range.end - range.start + 1 : object.size))
    .header('Accept-Ranges', 'bytes')
    .header('Content-Disposition', inlineDisposition(link.filename ?? link.key.slice(link.key.indexOf('/') + 1)))
    // Only the browser that holds the link may keep it, and no longer than the link lives.
    .header('Cache-Control', `private, max-age=${remaining}`)
    .header('X-Content-Type-Options', 'nosniff');
}

function unsatisfiable(reply: FastifyReply, size: number) {
  reply.header('Content-Range', `bytes */${size}`);
  return errors.rangeNotSatisfiable(size);
}
