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
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { serveChatProxy } from "./chat-proxy-server.mjs";

const upstream = process.argv[2];
// `--stream`: ask the upstream for SSE, as the registry does for every call, and
// gather its events into the answer.
const upstreamStreams = process.argv[3] === "--stream";
const pool = new Pool(upstream, { connections: 4096, keepAliveTimeout: 60_000 });
// AmigoChat's browser headers, as the provider makes them (the same object, built per call).
const { amigoChatHeaders } = await import(
  fileURLToPath(new URL("../packages/provider-amigochat/dist/amigochat-wire.js", import.meta.url))
);

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

serveChatProxy(async (asked) => {
  const answer = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: amigoChatHeaders(randomUUID()),
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
  return {
    content: choice.message.content,
    finishReason: choice.finish_reason,
    usage: upstreamAnswer.usage,
  };
});
