import type { AddressInfo } from "node:net";
import { createServer } from "node:net";

/**
 * An origin on 127.0.0.1 where nothing listens, for connection-refused tests. It binds
 * port 0 to let the OS pick a free port, then closes it; the OS does not hand a port
 * straight back out, so a connection there is refused for the length of a test.
 *
 * @example
 * const url = await closedPortUrl();
 * await expect(fetch(url)).rejects.toThrow(); // cause.code === "ECONNREFUSED"
 */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
