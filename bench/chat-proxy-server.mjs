// The server shell of the floor's hand-made proxies (minimal-proxy.mjs,
// provider-proxy.mjs): node:http on a free loopback port, the client's JSON body read
// and parsed, and whatever `answer(asked)` gathers written as a `chat.completion`.
// Prints {"port": n} on stdout when ready.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

function fail(response, status, message) {
  const body = JSON.stringify({ error: { message, type: "invalid_request_error" } });
  response.writeHead(status, { "content-type": "application/json" });
  response.end(body);
}

/**
 * Serve chat completions: `answer(asked)` is given the client's parsed body and
 * resolves with `{ content, finishReason, usage }` (usage in OpenAI's snake_case, or
 * undefined); anything it throws is a 502.
 */
export function serveChatProxy(answer) {
  const server = createServer((request, response) => {
    const parts = [];
    request.on("data", (part) => parts.push(part));
    request.on("end", async () => {
      let asked;
      try {
        asked = JSON.parse(Buffer.concat(parts).toString("utf8"));
      } catch {
        fail(response, 400, "not JSON");
        return;
      }
      try {
        const { content, finishReason, usage } = await answer(asked);
        const body = JSON.stringify({
          id: `chatcmpl-${randomUUID()}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: asked.model,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content, refusal: null },
              logprobs: null,
              finish_reason: finishReason,
            },
          ],
          usage,
        });
        response.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        });
        response.end(body);
      } catch (error) {
        fail(response, 502, String(error));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () =>
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`),
  );
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGINT", () => process.exit(0));
}
