// `node bench/profile.mjs [--stream] [--deltas 1] [--seconds 10] [--connections 50] [--top 40]`:
// load one registry (AmigoChat against the bench upstream) with autocannon while
// it runs under `--cpu-prof`, then print where its CPU went: self time by
// function and by package. This is how the hot path of `pnpm bench` is found.
// `--stream --deltas 10000 --connections 2` profiles the per-delta path;
// `--body-kb 1024 --connections 1` a large request body; `--providers 1000` the
// same call behind 999 other configured providers (OpenAI-compatible, a model each);
// `--passthrough` profiles the bare passthrough instead, for comparison.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { startChild, startRegistry, stopChildren } from "./processes.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const { values: flags } = parseArgs({
  options: {
    stream: { type: "boolean", default: false },
    deltas: { type: "string", default: "1" },
    "body-kb": { type: "string", default: "0" },
    providers: { type: "string", default: "1" },
    passthrough: { type: "boolean", default: false },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    top: { type: "string", default: "40" },
    file: { type: "string" },
  },
});

if (flags.file !== undefined) {
  summarize(flags.file);
  process.exit(0);
}

const upstream = await startChild([
  join(here, "upstream.mjs"),
  "--deltas",
  flags.deltas,
  "--interval",
  "0",
]);
const profileDirectory = mkdtempSync(join(tmpdir(), "g4f-profile-"));
const others = Array.from({ length: Number(flags.providers) - 1 }, (_, index) => ({
  id: `other${index + 1}`,
  use: "@g4f-ts/provider-openai-compatible",
  options: {
    baseUrl: `http://127.0.0.1:${upstream.info.healthy}/v1`,
    models: [`model-${index + 1}`],
  },
}));
const { child: registry, origin } = flags.passthrough
  ? await startPassthrough()
  : await startRegistry(
      "profiled",
      [
        {
          id: "amigochat",
          use: "@g4f-ts/provider-amigochat",
          options: {
            baseUrl: `http://127.0.0.1:${upstream.info.healthy}`,
            retry: { maxAttempts: 1 },
          },
        },
        ...others,
      ],
      { nodeFlags: ["--cpu-prof", "--cpu-prof-dir", profileDirectory] },
    );

/** The bare passthrough under the same profiler: the other side of every ratio. */
async function startPassthrough() {
  const { child, info } = await startChild([
    "--cpu-prof",
    "--cpu-prof-dir",
    profileDirectory,
    join(here, "passthrough.mjs"),
    `http://127.0.0.1:${upstream.info.healthy}`,
  ]);
  return { child, origin: `http://127.0.0.1:${info.port}` };
}
const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [
    {
      role: "user",
      content: `Hello ${"the quick brown fox jumps over the lazy dog. ".repeat((Number(flags["body-kb"]) * 1024) / 45)}`,
    },
  ],
  stream: flags.stream,
});
const result = await autocannon({
  url: `${origin}/v1/chat/completions`,
  method: "POST",
  headers: { "content-type": "application/json" },
  body,
  connections: Number(flags.connections),
  duration: Number(flags.seconds),
});
console.log(
  `${result.requests.average} req/s, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
);
const exited = new Promise((resolve) => registry.once("exit", resolve));
registry.kill("SIGINT");
await exited;
stopChildren();

const file = readdirSync(profileDirectory).find((name) => name.endsWith(".cpuprofile"));
if (file === undefined) throw new Error("the registry wrote no profile");
summarize(join(profileDirectory, file));

/** Print self time by package and by function of one `.cpuprofile`. */
function summarize(path) {
  const profile = JSON.parse(readFileSync(path, "utf8"));
  const interval = (profile.endTime - profile.startTime) / profile.samples.length;
  const selfCount = new Map();
  for (const sample of profile.samples) selfCount.set(sample, (selfCount.get(sample) ?? 0) + 1);
  const byFunction = new Map();
  const byPackage = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = selfCount.get(node.id) ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = packageOf(url);
    const name = `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    byPackage.set(where, (byPackage.get(where) ?? 0) + hits);
  }
  const print = (title, map, limit) => {
    console.log(`\n${title}`);
    for (const [name, hits] of [...map].sort((left, right) => right[1] - left[1]).slice(0, limit))
      console.log(
        `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${((hits * interval) / 1000).toFixed(0).padStart(6)} ms  ${name}`,
      );
  };
  print("self time by package", byPackage, 30);
  print("self time by function", byFunction, Number(flags.top));
  console.log(`\nprofile: ${path}`);
}

function packageOf(url) {
  if (url === "") return "(native / idle / gc)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const store = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (store) return store[1];
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (workspace) return `@g4f-ts/${workspace[2]}`;
  return url;
}

function shortUrl(url) {
  return url
    .replace(/^file:\/\/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
    .replace(/^file:\/\/.*\/(packages|apps)\//, "");
}
