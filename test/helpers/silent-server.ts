import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after } from 'node:test';

/**
 * A TCP server on loopback that accepts every connection and never answers: a peer that hangs.
 * `connections` are those it accepted, in order. Closed after the file's tests.
 */
export async function silentServer(): Promise<{ port: number; connections: Socket[] }> {
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of connections) socket.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, connections };
}
