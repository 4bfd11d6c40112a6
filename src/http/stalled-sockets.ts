import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Closes a connection whose client stopped reading: responses queued for it (pipelined
 * requests are answered whether or not the answers are read) stay in memory, and Node's socket
 * timeout never fires, since the server's own writes count as activity. A socket is stalled when
 * it has bytes waiting to be sent and none has left for `stallMs`.
 */
export function dropStalledSockets(server: Server, stallMs: number): void {
  const watched = new Map<Socket, { dispatched: number; since: number }>();
  server.on('connection', (socket: Socket) => {
    watched.set(socket, { dispatched: 0, since: Date.now() });
    socket.once('close', () => watched.delete(socket));
  });
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [socket, seen] of watched) {
      // bytesWritten counts what is still buffered too: what has really left is the rest.
      const dispatched = socket.bytesWritten - socket.writableLength;
      if (socket.writableLength === 0 || dispatched !== seen.dispatched) {
        seen.dispatched = dispatched;
        seen.since = now;
      } else if (now - seen.since >= stallMs) {
        socket.destroy();
      }
    }
  }, Math.min(1_000, Math.ceil(stallMs / 2))).unref();
  server.once('close', () => clearInterval(timer));
}
