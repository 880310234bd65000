// The provider layer alone under real load: minimal-proxy.mjs with the upstream call
// made through the AmigoChat provider (provider-core's pipeline, HTTP client and
// chunk model) instead of a bare undici pool, and no registry around it. Against
// minimal-proxy.mjs it is what the provider layer costs; against the registry, what
// the registry's layers cost above their provider. The answer is gathered from the
// provider's chunks and written as a `chat.completion` like the minimal proxy's.
// Usage: node provider-proxy.mjs <upstream origin> [checkout root]; prints {"port": n}.
import { createServer } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(process.argv[3] ?? fileURLToPath(new URL("..", import.meta.url)));
const { AmigoChat } = await import(`${root}/packages/provider-amigochat/dist/index.js`);
const { FinishReason, Usage } = await import(`${root}/packages/provider-core/dist/index.js`);
const amigoChat = new AmigoChat({ baseUrl: process.argv[2], retry: { maxAttempts: 1 } });

function fail(response, status, message) {
  const body = JSON.stringify({ error: { message, type: "invalid_request_error" } });
  response.writeHead(status, { "content-type": "application/json" });
  response.end(body);
}

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
      let content = "";
      let finishReason = "stop";
      let usage;
      for await (const chunk of amigoChat.createAsyncGenerator(asked.model, asked.messages)) {
        if (typeof chunk === "string") content += chunk;
        else if (chunk instanceof FinishReason) finishReason = chunk.reason;
        else if (chunk instanceof Usage) usage = chunk;
      }
      const body = JSON.stringify({
        id: `chatcmpl-${crypto.randomUUID()}`,
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
        usage:
          usage === undefined
            ? undefined
            : {
                prompt_tokens: usage.promptTokens,
                completion_tokens: usage.completionTokens,
                total_tokens: usage.totalTokens,
              },
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
