// `node bench/request-parse.mjs [--iterations 20000] [--baseline <repo root>]`:
// the registry's per-request cost of reading and validating a chat request, in
// process and without a server. For each typical body (a plain one-message chat, a
// streamed one, one with tools and response_format, one of 20 messages) it times
// what `handleChatCompletion` does before routing: JSON.parse of the body text,
// `parseChatRequest`, `toMessages`, `toProviderOptions`, and the core's
// `checkMessages` the call pipeline runs on the messages, and prints µs per request
// (the median of 5 runs of `--iterations` requests each). It imports the built
// registry (`apps/registry/dist`) and core (`packages/provider-core/dist`): run
// `pnpm build` first. `--baseline /tmp/perf-base4` times that tree's build too, in
// the same process, for a before/after ratio.
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = fileURLToPath(new URL(".", import.meta.url));
const { values: flags } = parseArgs({
  options: {
    iterations: { type: "string", default: "20000" },
    baseline: { type: "string" },
  },
});
const iterations = Number(flags.iterations);

const bodies = {
  plain: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] },
  stream: {
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Hello" }],
    stream: true,
    stream_options: { include_usage: true },
  },
  tools: {
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "What is the weather in Paris?" },
    ],
    temperature: 0.2,
    max_tokens: 512,
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "The weather in a city",
          parameters: {
            type: "object",
            properties: { city: { type: "string" } },
            required: ["city"],
          },
        },
      },
    ],
    tool_choice: "auto",
    response_format: {
      type: "json_schema",
      json_schema: { name: "weather", schema: { type: "object" }, strict: true },
    },
  },
  messages20: {
    model: "gpt-4o-mini",
    messages: Array.from({ length: 20 }, (_, index) =>
      index === 0
        ? { role: "system", content: "You are a helpful assistant." }
        : {
            role: index % 2 === 1 ? "user" : "assistant",
            content: `Turn ${index}: the quick brown fox jumps over the lazy dog.`,
          },
    ),
    stream: true,
  },
};

async function load(root) {
  const registry = await import(
    pathToFileURL(join(root, "apps/registry/dist/openai-wire.js")).href
  );
  const core = await import(
    pathToFileURL(join(root, "packages/provider-core/dist/internal.js")).href
  );
  const { InvalidOptionsError } = await import(
    pathToFileURL(join(root, "packages/provider-core/dist/index.js")).href
  );
  const createError = (options) => new InvalidOptionsError(options);
  return (text) => {
    const request = registry.parseChatRequest(JSON.parse(text), {
      maxMessages: 2048,
      maxContentParts: 4096,
    });
    const messages = registry.toMessages(request);
    const options = registry.toProviderOptions(request);
    core.checkMessages(messages, "bench", createError);
    return options;
  };
}

function time(handle, text) {
  const runs = [];
  for (let run = 0; run < 5; run++) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < iterations; index++) handle(text);
    runs.push(Number(process.hrtime.bigint() - started) / 1000 / iterations);
  }
  runs.sort((a, b) => a - b);
  return runs[2];
}

const trees = [["current", resolve(here, "..")]];
if (flags.baseline !== undefined) trees.unshift(["baseline", resolve(flags.baseline)]);
const handlers = [];
for (const [name, root] of trees) handlers.push([name, await load(root)]);

const rows = [];
for (const [bodyName, body] of Object.entries(bodies)) {
  const text = JSON.stringify(body);
  const row = { body: bodyName, bytes: text.length };
  // Warm every tree first, so that neither is timed while V8 still compiles it.
  for (const [, handle] of handlers) for (let index = 0; index < 5000; index++) handle(text);
  for (const [name, handle] of handlers) row[`${name} µs`] = Number(time(handle, text).toFixed(2));
  if (handlers.length === 2)
    row.ratio = Number((row["current µs"] / row["baseline µs"]).toFixed(2));
  rows.push(row);
}
console.table(rows);
