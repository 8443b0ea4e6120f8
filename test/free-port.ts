import { createServer, type AddressInfo } from 'node:net';

/** A port nothing listens on right now: to start a server on a known port, or to stand for one that refuses. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
