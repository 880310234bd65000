// Where the registry's CPU per request goes under real load, layer by layer: the
// same JSON chat request at c=50 through five servers in processes of their own,
// against one fake upstream (`upstream.mjs`, unpaced):
//
// - passthrough:     `passthrough.mjs`, the bare proxy every target of issue 15 divides by;
// - minimal:         `minimal-proxy.mjs`, the essential work of an AmigoChat call by hand
//                    (parse, AmigoChat's body and 17 headers, undici, the answer rebuilt);
// - minimal-stream:  the same, asking the upstream for SSE as the registry always does;
// - provider:        `provider-proxy.mjs`, the minimal server calling the AmigoChat
//                    provider (provider-core's pipeline, client and chunks), no registry;
// - registry:        `g4f-ts serve` with the AmigoChat provider, as `pnpm bench` runs it.
//
// `--baseline <checkout>` adds "provider-baseline" and "registry-baseline" built from
// another checkout (its `dist`), for a before/after in the same run. `--registry
// name=<cli.js>` (repeatable) adds a registry of another build under that name (a
// scratch copy with one piece stubbed out, see `subtraction.mjs`); every server is
// also shown as a ratio to "registry" (this checkout's build) of the same block.
//
// The servers run in blocks of `--seconds` each, every server once per block, the
// order reversing between blocks so that drift hits them alike. CPU (user + system,
// all threads) comes from /proc. Each server's CPU per request is divided by the
// passthrough's of the same block; the median and spread of that ratio over the
// blocks is the figure to read: the machine's speed drifts by 2x between runs, a
// ratio inside one block does not.
//
//   npx pnpm@10.34.8 build && node bench/floor.mjs [--blocks 12] [--seconds 1.5]
//   node bench/floor.mjs --only passthrough,provider,provider-baseline --baseline /tmp/perf-base8
//   node bench/floor.mjs --only registry,stubbed --registry stubbed=/tmp/scratch/apps/registry/dist/cli.js
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { startChild, startRegistry, stopChildren } from "./processes.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const { values } = parseArgs({
  options: {
    blocks: { type: "string", default: "12" },
    seconds: { type: "string", default: "1.5" },
    connections: { type: "string", default: "50" },
    baseline: { type: "string" },
    only: { type: "string" },
    registry: { type: "string", multiple: true, default: [] },
  },
});
const blocks = Number(values.blocks);
const seconds = Number(values.seconds);

const upstream = await startChild([join(here, "upstream.mjs"), "--deltas", "1", "--interval", "0"]);
const upstreamOrigin = `http://127.0.0.1:${upstream.info.healthy}`;
const amigoChat = [
  {
    id: "amigochat",
    use: "@g4f-ts/provider-amigochat",
    options: { baseUrl: upstreamOrigin, retry: { maxAttempts: 1 } },
  },
];

/** A server of this bench from its script's arguments. */
async function startScript(...args) {
  const { child, info } = await startChild([...args]);
  return { child, origin: `http://127.0.0.1:${info.port}` };
}

const variants = {
  passthrough: () => startScript(join(here, "passthrough.mjs"), upstreamOrigin),
  minimal: () => startScript(join(here, "minimal-proxy.mjs"), upstreamOrigin),
  "minimal-stream": () => startScript(join(here, "minimal-proxy.mjs"), upstreamOrigin, "--stream"),
  provider: () => startScript(join(here, "provider-proxy.mjs"), upstreamOrigin),
  registry: () => startRegistry("floor", amigoChat),
};
if (values.baseline !== undefined) {
  const root = resolve(values.baseline);
  variants["provider-baseline"] = () =>
    startScript(join(here, "provider-proxy.mjs"), upstreamOrigin, root);
  variants["registry-baseline"] = () =>
    startRegistry("floor-baseline", amigoChat, {
      cli: join(root, "apps/registry/dist/cli.js"),
    });
}
for (const named of values.registry) {
  const at = named.indexOf("=");
  if (at <= 0) throw new Error(`--registry ${named}: expected name=<path of cli.js>`);
  const cli = resolve(named.slice(at + 1));
  variants[named.slice(0, at)] = () =>
    startRegistry(`floor-${named.slice(0, at)}`, amigoChat, { cli });
}
const names = values.only === undefined ? Object.keys(variants) : values.only.split(",");
if (!names.includes("passthrough")) names.unshift("passthrough");
for (const name of names) if (variants[name] === undefined) throw new Error(`no variant "${name}"`);
const servers = {};
for (const name of names) servers[name] = await variants[name]();

/** The CPU a process has spent, user + system over all its threads, in µs. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
});
async function load(server, duration) {
  const before = cpuMicros(server.child.pid);
  const result = await autocannon({
    url: `${server.origin}/v1/chat/completions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections: Number(values.connections),
    duration,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  const requests = result.requests.total;
  return { cpu: (cpuMicros(server.child.pid) - before) / requests, rate: requests / duration };
}

for (const name of names) await load(servers[name], 2);
const ratios = Object.fromEntries(names.map((name) => [name, []]));
const cpus = Object.fromEntries(names.map((name) => [name, []]));
const rates = Object.fromEntries(names.map((name) => [name, []]));
for (let block = 0; block < blocks; block++) {
  const order = block % 2 === 0 ? names : [...names].reverse();
  const took = {};
  for (const name of order) took[name] = await load(servers[name], seconds);
  for (const name of names) {
    ratios[name].push(took[name].cpu / took.passthrough.cpu);
    cpus[name].push(took[name].cpu);
    rates[name].push(took[name].rate / took.passthrough.rate);
  }
  process.stderr.write(`block ${block + 1}/${blocks}\n`);
}
stopChildren();

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const spread = (list) => `${Math.min(...list).toFixed(2)}–${Math.max(...list).toFixed(2)}`;
console.log(
  `CPU per request at c=${values.connections}, ${blocks} blocks of ${seconds} s; ratios to the passthrough of the same block`,
);
/** The median of a server's CPU per request over the registry's of the same block, when the registry ran. */
const toRegistry = (name) =>
  cpus.registry === undefined
    ? ""
    : `   / registry ${median(cpus[name].map((cpu, block) => cpu / cpus.registry[block])).toFixed(3)}`;
for (const name of names)
  console.log(
    `${name.padEnd(18)} ${median(cpus[name]).toFixed(0).padStart(5)} µs   CPU ${median(ratios[name]).toFixed(2)}x (${spread(ratios[name])})   req/s ${median(rates[name]).toFixed(2)}x (${spread(rates[name])})${toRegistry(name)}`,
  );
process.exit(0);
