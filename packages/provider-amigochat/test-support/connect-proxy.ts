import { createServer } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

/** A forward proxy on 127.0.0.1 for tests: it tunnels `CONNECT` to loopback targets only. */
export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The `host:port` of every tunnel asked for, in order. */
  readonly targets: string[];
  close(): Promise<void>;
}

/**
 * Start a minimal HTTP `CONNECT` proxy (what undici's `ProxyAgent` speaks). It refuses
 * any target that is not 127.0.0.1, so a test can never reach the outside through it.
 */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const targets: string[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server = createServer((_request, response) => {
    response.writeHead(405).end();
  });
  server.on("connect", (request, clientSocket: Socket, head: Buffer) => {
    track(clientSocket);
    const target = request.url ?? "";
    targets.push(target);
    const separator = target.lastIndexOf(":");
    const host = target.slice(0, separator);
    const port = Number(target.slice(separator + 1));
    if (host !== "127.0.0.1" || !Number.isInteger(port)) {
      clientSocket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = connect(port, host, () => {
      clientSocket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    track(upstream);
    upstream.on("error", () => clientSocket.destroy());
    clientSocket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
