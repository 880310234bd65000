// The floor of the registry's JSON path: a hand-made proxy that does the essential
// work of an AmigoChat chat request and nothing else. It reads and parses the
// client's JSON, builds AmigoChat's body and browser headers (a fresh device uuid and
// chat id each), calls the upstream through an undici pool, parses its JSON answer
// and writes an OpenAI chat.completion of its own (new id, created, the client's
// model). No routing, fallback, timeouts, validation, logs or metrics. It is what
// "the same essential work" costs, so that a target can be judged against what any
// proxy that translates the wire must spend, beside the bare passthrough that
// translates nothing. Usage: node minimal-proxy.mjs <upstream origin> [--stream];
// prints {"port": n}.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { Pool } from "undici";

const upstream = process.argv[2];
// `--stream`: ask the upstream for SSE, as the registry does for every call, and
// gather its events into the answer.
const upstreamStreams = process.argv[3] === "--stream";
const pool = new Pool(upstream, { connections: 4096, keepAliveTimeout: 60_000 });
const site = "https://amigochat.io/chat/";

function headersFor(deviceUuid) {
  return {
    accept: "*/*",
    "accept-language": "en-US,en;q=0.9",
    authorization: "Bearer",
    "cache-control": "no-cache",
    "content-type": "application/json",
    origin: site,
    pragma: "no-cache",
    priority: "u=1, i",
    referer: `${site}/`,
    "sec-ch-ua": '"Chromium";v="129", "Not=A?Brand";v="8"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"Linux"',
    "user-agent":
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "x-device-language": "en-US",
    "x-device-platform": "web",
    "x-device-uuid": deviceUuid,
    "x-device-version": "1.0.45",
  };
}

// A streamed answer's events gathered into the JSON answer's shape.
function fromEvents(text) {
  let content = "";
  let finish = null;
  let usage;
  for (const event of text.split("\n\n")) {
    if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
    const chunk = JSON.parse(event.slice(6));
    const choice = chunk.choices[0];
    if (choice?.delta?.content) content += choice.delta.content;
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { choices: [{ message: { content }, finish_reason: finish }], usage };
}

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
      const answer = await pool.request({
        method: "POST",
        path: "/v1/chat/completions",
        headers: headersFor(randomUUID()),
        body: JSON.stringify({
          chatId: randomUUID(),
          frequency_penalty: 0,
          max_tokens: 4000,
          messages: asked.messages,
          model: asked.model,
          personaId: "amigo",
          presence_penalty: 0,
          stream: upstreamStreams,
          temperature: 0.5,
          top_p: 0.95,
        }),
      });
      const text = await answer.body.text();
      const upstreamAnswer = upstreamStreams ? fromEvents(text) : JSON.parse(text);
      const choice = upstreamAnswer.choices[0];
      const body = JSON.stringify({
        id: `chatcmpl-${randomUUID()}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: asked.model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: choice.message.content, refusal: null },
            logprobs: null,
            finish_reason: choice.finish_reason,
          },
        ],
        usage: upstreamAnswer.usage,
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
