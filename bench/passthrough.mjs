// The baseline: the least a Node proxy can do. node:http in, an undici pool out, no
// parsing of either body. What the registry adds is measured against this.
// Usage: node passthrough.mjs <upstream origin>; prints {"port": n} when ready.
import { createServer } from "node:http";
import { Pool } from "undici";

const upstream = process.argv[2];
const pool = new Pool(upstream, { connections: 4096, keepAliveTimeout: 60_000 });

const server = createServer((request, response) => {
  const parts = [];
  request.on("data", (part) => parts.push(part));
  request.on("end", async () => {
    try {
      const answer = await pool.request({
        method: request.method,
        path: request.url,
        headers: { "content-type": request.headers["content-type"] ?? "application/json" },
        body: Buffer.concat(parts),
      });
      response.writeHead(answer.statusCode, { "content-type": answer.headers["content-type"] });
      for await (const chunk of answer.body) response.write(chunk);
      response.end();
    } catch (error) {
      response.writeHead(502);
      response.end(String(error));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () =>
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`),
);
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
