// A fake chat upstream for the benchmarks, in its own process so that its work does
// not land on the process being measured. One port answers healthily (JSON, or SSE
// with `--deltas` deltas paced `--interval` ms apart); the other answers 503 at once.
// Prints {"healthy": port, "failing": port} on stdout when ready.
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    deltas: { type: "string", default: "64" },
    interval: { type: "string", default: "20" },
  },
});
const deltas = Number(values.deltas);
const intervalMs = Number(values.interval);

const completion = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "Hello from the bench upstream!" },
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
});
const frame = (content, finishReason = null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1_700_000_000, model: "gpt-4o-mini", choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finishReason }] })}\n\n`;
// One delta carries the same text as the JSON answer, so a streamed and a JSON call
// of the latency sections move the same content.
const frames =
  deltas === 1
    ? [frame("Hello from the bench upstream!")]
    : Array.from({ length: deltas }, (_, index) => frame(`token${index} `));
const finalFrames = `${frame(undefined, "stop")}data: [DONE]\n\n`;

function readBody(request) {
  return new Promise((resolve) => {
    const parts = [];
    request.on("data", (part) => parts.push(part));
    request.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
  });
}

const healthy = createServer(async (request, response) => {
  const text = await readBody(request);
  let stream = false;
  try {
    stream = JSON.parse(text).stream === true;
  } catch {}
  if (!stream) {
    response.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(completion),
    });
    response.end(completion);
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  let index = 0;
  const send = () => {
    if (response.destroyed) return;
    if (index === deltas) {
      response.end(finalFrames);
      return;
    }
    response.write(frames[index++]);
    setTimeout(send, intervalMs);
  };
  if (intervalMs > 0) {
    send();
    return;
  }
  // Unpaced: every frame at once, in writes of 64 frames (a recursion of 10,000
  // calls would overflow the stack), ending with the final frames.
  for (let from = 0; from < deltas; from += 64)
    response.write(frames.slice(from, from + 64).join(""));
  response.end(finalFrames);
});
const failing = createServer(async (request, response) => {
  await readBody(request);
  const body = '{"error":{"message":"Service Unavailable","type":"server_error"}}';
  response.writeHead(503, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
});
for (const server of [healthy, failing]) {
  server.keepAliveTimeout = 60_000;
  server.maxRequestsPerSocket = 0;
}
await Promise.all(
  [healthy, failing].map(
    (server) => new Promise((resolve) => server.listen(0, "127.0.0.1", resolve)),
  ),
);
process.stdout.write(
  `${JSON.stringify({ healthy: healthy.address().port, failing: failing.address().port })}\n`,
);
process.on("SIGTERM", () => process.exit(0));
