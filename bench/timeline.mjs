// `node bench/timeline.mjs [--stream] [--pause-ms 0] [--requests 300] [--profile]
// [--provider amigochat|openai-compatible]`:
// where ONE request's time goes, on the bare passthrough and on the registry (and
// a baseline build, G4F_BENCH_BASELINE_CLI as in run.mjs), against the same fake
// upstream. Requests go one at a time, rotating over the paths; `--pause-ms 20`
// leaves each process idle between requests, as the open-loop first-chunk section
// of run.mjs does (a process woken from idle runs its code cold, several times
// slower than back to back). Each proxy runs with `timeline-probe.mjs`, which
// stamps the stages of every request: the request's head parsed, the upstream
// request written, the upstream's answer head, the first write to the client, the
// answer finished. The tool prints the median of each stage per path. With
// `--profile` each proxy also runs under `--cpu-prof` (one sample every
// `--sample-us`), and the samples taken inside the stages on the proxy's critical
// path (before the upstream write; from the upstream's head to the first client
// write) are summed by function, per request: the code a request waits on.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { startChild, startRegistry, stopChildren } from "./processes.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const { values: flags } = parseArgs({
  options: {
    stream: { type: "boolean", default: false },
    "pause-ms": { type: "string", default: "0" },
    requests: { type: "string", default: "300" },
    warmup: { type: "string", default: "100" },
    profile: { type: "boolean", default: false },
    "sample-us": { type: "string", default: "50" },
    top: { type: "string", default: "25" },
    provider: { type: "string", default: "amigochat" },
  },
});
const requestCount = Number(flags.requests);
const warmupCount = Number(flags.warmup);
const pauseMs = Number(flags["pause-ms"]);
const topCount = Number(flags.top);
const probePath = join(here, "timeline-probe.mjs");
const workDirectory = mkdtempSync(join(tmpdir(), "g4f-timeline-"));

// A stream of 3 deltas 20 ms apart: its first chunk is what is measured, and the
// next request starts once it ended. A JSON answer: one delta, unpaced.
const upstream = await startChild([
  join(here, "upstream.mjs"),
  "--deltas",
  flags.stream ? "3" : "1",
  "--interval",
  flags.stream ? "20" : "0",
]);
const upstreamOrigin = `http://127.0.0.1:${upstream.info.healthy}`;

/** The node flags and environment of one probed proxy. */
function probed(name) {
  const profileDirectory = join(workDirectory, `${name}-profile`);
  const nodeFlags = ["--import", probePath];
  if (flags.profile)
    nodeFlags.push(
      "--cpu-prof",
      "--cpu-prof-dir",
      profileDirectory,
      "--cpu-prof-interval",
      flags["sample-us"],
    );
  return { nodeFlags, profileDirectory, timelinePath: join(workDirectory, `${name}.json`) };
}

/** Start a proxy with the probe; `G4F_TIMELINE_OUT` reaches only that child. */
async function startProbed(name, start) {
  const settings = probed(name);
  const previous = process.env.G4F_TIMELINE_OUT;
  process.env.G4F_TIMELINE_OUT = settings.timelinePath;
  try {
    const started = await start(settings.nodeFlags);
    return { name, ...settings, ...started };
  } finally {
    if (previous === undefined) delete process.env.G4F_TIMELINE_OUT;
    else process.env.G4F_TIMELINE_OUT = previous;
  }
}

// AmigoChat, as run.mjs configures it, or `--provider openai-compatible`: the same
// upstream asked with a plain OpenAI request rather than AmigoChat's browser headers.
const providers = {
  amigochat: {
    id: "amigochat",
    use: "@g4f-ts/provider-amigochat",
    enabled: true,
    options: { baseUrl: upstreamOrigin, retry: { maxAttempts: 1 } },
  },
  "openai-compatible": {
    id: "openai",
    use: "@g4f-ts/provider-openai-compatible",
    enabled: true,
    options: {
      baseUrl: `${upstreamOrigin}/v1`,
      models: ["gpt-4o-mini"],
      retry: { maxAttempts: 1 },
    },
  },
};
if (!(flags.provider in providers)) throw new Error(`--provider: one of ${Object.keys(providers)}`);
const registryProviders = [providers[flags.provider]];
const proxies = [
  await startProbed("bare passthrough", async (nodeFlags) => {
    const { child, info } = await startChild([
      ...nodeFlags,
      join(here, "passthrough.mjs"),
      upstreamOrigin,
    ]);
    return { child, origin: `http://127.0.0.1:${info.port}` };
  }),
  await startProbed("registry", (nodeFlags) =>
    startRegistry("timeline", registryProviders, { nodeFlags }),
  ),
];
const baselineCli = process.env.G4F_BENCH_BASELINE_CLI;
if (baselineCli)
  proxies.push(
    await startProbed("registry before", (nodeFlags) =>
      startRegistry("timeline-before", registryProviders, { nodeFlags, cli: baselineCli }),
    ),
  );
const targets = [{ name: "direct", origin: upstreamOrigin }, ...proxies];

const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
  stream: flags.stream,
});

/** One request; resolves with the client's milliseconds to the first content and to the end. */
async function timedRequest(pool) {
  const started = performance.now();
  const response = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body,
  });
  let firstContent;
  let text = "";
  for await (const piece of response.body) {
    text += piece.toString("utf8");
    if (firstContent === undefined && /Hello from the bench upstream|token0/.test(text))
      firstContent = performance.now() - started;
  }
  if (response.statusCode !== 200 || firstContent === undefined)
    throw new Error(`unexpected answer ${response.statusCode}: ${text.slice(0, 300)}`);
  return { firstContent, total: performance.now() - started };
}

const pools = targets.map((target) => new Pool(target.origin, { connections: 1 }));
const clientTimes = targets.map(() => []);
for (let index = 0; index < warmupCount + requestCount; index++) {
  for (let target = 0; target < targets.length; target++) {
    const times = await timedRequest(pools[target]);
    if (index >= warmupCount) clientTimes[target].push(times);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
await Promise.all(pools.map((pool) => pool.close()));
const exits = proxies.map((proxy) => new Promise((resolve) => proxy.child.once("exit", resolve)));
for (const proxy of proxies) proxy.child.kill("SIGINT");
await Promise.all(exits);
stopChildren();

const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((left, right) => left - right);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)];
};
const milliseconds = (value) => value.toFixed(3).padStart(9);

console.log(
  `${flags.stream ? "streamed" : "JSON"} answers, ${requestCount} requests a path one at a time (${warmupCount} of warm-up), ${pauseMs} ms idle between requests`,
);
console.log("\nclient side, median ms (added = the path minus direct):");
const directFirst = median(clientTimes[0].map((times) => times.firstContent));
for (const [index, target] of targets.entries()) {
  const first = median(clientTimes[index].map((times) => times.firstContent));
  const total = median(clientTimes[index].map((times) => times.total));
  console.log(
    `${target.name.padEnd(18)} first content ${milliseconds(first)}  whole ${milliseconds(total)}  added first content ${milliseconds(first - directFirst)}`,
  );
}

/**
 * The stages of each measured request of a proxy (the last `requestCount` that
 * called the upstream), in microseconds from the request's head.
 */
function stagesOf(proxy) {
  const requests = JSON.parse(readFileSync(proxy.timelinePath, "utf8"))
    .map((events) => {
      const at = (stage) => events.find(([name]) => name === stage)?.[1];
      return {
        request: at("request"),
        upstreamWrite: at("upstreamWrite"),
        upstreamHead: at("upstreamHead"),
        clientWrite: at("clientWrite"),
        finish: at("finish"),
      };
    })
    .filter((stages) => stages.upstreamWrite !== undefined && stages.clientWrite !== undefined);
  return requests.slice(-requestCount);
}

const stageNames = [
  ["request head to upstream write", "request", "upstreamWrite"],
  ["upstream write to its answer's head", "upstreamWrite", "upstreamHead"],
  ["answer head to first client write", "upstreamHead", "clientWrite"],
  ["first client write to finish", "clientWrite", "finish"],
  ["request head to first client write", "request", "clientWrite"],
];
// Each registry's stage beside the passthrough's: where its added time sits.
console.log("\nin the proxy, median µs per stage (in brackets: minus the passthrough's):");
console.log(`${"stage".padEnd(38)}${proxies.map((proxy) => proxy.name.padStart(22)).join("")}`);
const stagesByProxy = proxies.map(stagesOf);
for (const [label, from, to] of stageNames) {
  const values = stagesByProxy.map((requests) =>
    median(requests.map((stages) => stages[to] - stages[from])),
  );
  const cells = values.map((value, index) => {
    const added = value - values[0];
    const beside = index === 0 ? "" : ` (${added >= 0 ? "+" : ""}${added.toFixed(0)})`;
    return `${value.toFixed(0)}${beside}`.padStart(22);
  });
  console.log(`${label.padEnd(38)}${cells.join("")}`);
}

if (flags.profile)
  for (const [index, proxy] of proxies.entries()) profileStages(proxy, stagesByProxy[index]);

/**
 * Sum the CPU profile's samples that fall in the two stages a request waits on in
 * the proxy (before the upstream write; from the answer's head to the first client
 * write), by function: self time, and inclusive time (every function on the
 * stack), each in µs per request.
 */
function profileStages(proxy, requests) {
  const file = readdirSync(proxy.profileDirectory).find((name) => name.endsWith(".cpuprofile"));
  if (file === undefined) return;
  const profile = JSON.parse(readFileSync(join(proxy.profileDirectory, file), "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const windows = [];
  for (const stages of requests) {
    windows.push({ from: stages.request, to: stages.upstreamWrite, phase: 0 });
    if (stages.upstreamHead !== undefined)
      windows.push({ from: stages.upstreamHead, to: stages.clientWrite, phase: 1 });
  }
  windows.sort((left, right) => left.from - right.from);
  const phases = [
    { label: "before the upstream write", self: new Map(), inclusive: new Map(), total: 0 },
    { label: "answer head to first client write", self: new Map(), inclusive: new Map(), total: 0 },
  ];
  let time = profile.startTime;
  let windowIndex = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    const delta = profile.timeDeltas[index] ?? 0;
    time += delta;
    while (windowIndex < windows.length && windows[windowIndex].to < time) windowIndex++;
    const window = windows[windowIndex];
    if (window === undefined) break;
    if (time < window.from) continue;
    const phase = phases[window.phase];
    // The time since the previous sample is what this sample stands for.
    const weight = Math.min(delta, Number(flags["sample-us"]) * 4);
    phase.total += weight;
    let id = profile.samples[index];
    const leaf = nameOf(nodes.get(id));
    phase.self.set(leaf, (phase.self.get(leaf) ?? 0) + weight);
    const seen = new Set();
    while (id !== undefined) {
      const name = nameOf(nodes.get(id));
      if (!seen.has(name)) {
        seen.add(name);
        phase.inclusive.set(name, (phase.inclusive.get(name) ?? 0) + weight);
      }
      id = parents.get(id);
    }
  }
  const perRequest = (value) => (value / requests.length).toFixed(1).padStart(8);
  for (const phase of phases) {
    console.log(
      `\n${proxy.name}, ${phase.label}: ${perRequest(phase.total)} µs of samples a request`,
    );
    for (const [title, map] of [
      ["self", phase.self],
      ["inclusive", phase.inclusive],
    ]) {
      console.log(`  ${title}:`);
      for (const [name, value] of [...map]
        .sort((left, right) => right[1] - left[1])
        .slice(0, topCount))
        console.log(`  ${perRequest(value)} µs  ${name}`);
    }
  }
}

function nameOf(node) {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    .replace(/^file:\/\/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
    .replace(/^file:\/\/.*\/(packages|apps|bench)\//, "");
  return `${functionName || "(anonymous)"} ${where}${url === "" ? "" : `:${lineNumber + 1}`}`;
}
