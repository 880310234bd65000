// `pnpm bench`: what the registry adds, measured in one run against a direct call to
// the upstream and against a bare passthrough proxy (the physical limit of a Node
// proxy on this machine). Prints one table and writes bench/results.json.
// `--quick` runs every section briefly (CI checks that it runs and writes JSON).
// `--only json,stream` runs some sections (`--rounds N` as many rounds), for a quick
// before/after of one change; it prints the figures it has and writes no JSON.
// Sections: latency, throughput, ttfc, delta, body, count, capacity, gaps, idle,
// fallback, sse; `json` = latency,throughput and `stream` = ttfc,delta.
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Agent, Pool } from "undici";
import { measureSseDecode } from "../packages/provider-core/bench/sse-decode.bench.mjs";
import { startChild, startRegistry, stopChildren } from "./processes.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    rounds: { type: "string" },
  },
});
const quick = flags.quick;
const sectionGroups = { json: ["latency", "throughput"], stream: ["ttfc", "delta"] };
const chosenSections =
  flags.only === undefined
    ? undefined
    : new Set(flags.only.split(",").flatMap((name) => sectionGroups[name] ?? [name]));
/** Whether a section runs: all do unless `--only` names some. */
const wanted = (section) => chosenSections === undefined || chosenSections.has(section);
// Every section but capacity runs once per round; the rounds interleave the
// sections and, inside each, the paths, so that the drift of a shared machine hits
// every path alike. Each figure is reported as the median over rounds with its
// spread (min–max).
const settings = quick
  ? {
      rounds: 1,
      warmup: 50,
      latencyRequests: 200,
      throughputSeconds: 1,
      ttfcSamples: 20,
      gapStreams: 10,
      bigBodyRequests: 5,
      deltaStreams: 1,
      providerCounts: [1, 100],
      capacityLevels: [100],
      waveSize: 50,
      idleLevels: [100, 200],
      fallbackRequests: 100,
      sseMegabytes: 5,
      sseRounds: 1,
    }
  : {
      rounds: 5,
      warmup: 200,
      latencyRequests: 1000,
      throughputSeconds: 3,
      ttfcSamples: 60,
      gapStreams: 50,
      bigBodyRequests: 30,
      deltaStreams: 6,
      providerCounts: [1, 1000],
      capacityLevels: [1000, 2000],
      waveSize: 100,
      idleLevels: [1000, 5000],
      fallbackRequests: 1000,
      sseMegabytes: 50,
      sseRounds: 3,
    };
if (flags.rounds !== undefined) settings.rounds = Number(flags.rounds);
const deltas = 64;
const intervalMs = 20;
const manyDeltas = quick ? 2000 : 10_000;
// The capacity section's streams: paced like the others, but long enough (5 s) that
// the last wave opens while the first is still streaming, so N are open at once.
const capacityDeltas = quick ? 64 : 256;
const idleDeltas = 4;
const idleIntervalMs = quick ? 1000 : 3000;
const chatBody = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
});
const streamBody = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
  stream: true,
});
// About 1 MB: a long conversation of plain prose, the shape a large request has.
const bigBody = JSON.stringify({
  model: "gpt-4o-mini",
  messages: Array.from({ length: 64 }, (_, index) => ({
    role: index % 2 === 0 ? "user" : "assistant",
    content: `Paragraph ${index}: ${'the quick brown fox jumps over the lazy dog, "quoted" and\nnew-lined. '.repeat(210)}`,
  })),
});
const amigo = (id, port, options = {}) => ({
  id,
  use: "@g4f-ts/provider-amigochat",
  enabled: true,
  options: { baseUrl: `http://127.0.0.1:${port}`, ...options },
});
const openAICompatible = (id, port, models) => ({
  id,
  use: "@g4f-ts/provider-openai-compatible",
  enabled: true,
  options: { baseUrl: `http://127.0.0.1:${port}/v1`, models, retry: { maxAttempts: 1 } },
});

// The failing upstream first (higher priority), the healthy one behind it.
const fallbackProviders = (ports) => [
  { ...amigo("failing", ports.failing, { retry: { maxAttempts: 1 } }), priority: 10 },
  amigo("healthy", ports.healthy, { retry: { maxAttempts: 1 } }),
];

function percentile(sorted, fraction) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}
const sortNumbers = (list) => [...list].sort((left, right) => left - right);

/** Median and min–max of the per-round values of one figure. */
function spread(values) {
  const sorted = sortNumbers(values.filter(Number.isFinite));
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, values };
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], values };
}

async function timedJson(pool, path, body) {
  const started = process.hrtime.bigint();
  const response = await pool.request({
    method: "POST",
    path,
    headers: { "content-type": "application/json" },
    body,
  });
  const text = await response.body.text();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (response.statusCode !== 200 || !text.includes("Hello from the bench upstream")) {
    throw new Error(`unexpected answer ${response.statusCode}: ${text.slice(0, 600)}`);
  }
  return elapsed;
}

/** Sequential requests at concurrency 1, interleaved across the targets so that noise hits all alike. */
async function latencyRound(targets, count, { body = chatBody, warmup = settings.warmup } = {}) {
  const pools = targets.map((target) => new Pool(target.origin, { connections: 1 }));
  const samples = targets.map(() => []);
  for (let index = 0; index < warmup; index++) {
    for (let target = 0; target < targets.length; target++)
      await timedJson(pools[target], "/v1/chat/completions", body);
  }
  for (let index = 0; index < count; index++) {
    for (let target = 0; target < targets.length; target++) {
      samples[target].push(await timedJson(pools[target], "/v1/chat/completions", body));
    }
  }
  await Promise.all(pools.map((pool) => pool.close()));
  return samples.map((list) => {
    const sorted = sortNumbers(list);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
  });
}

/** CPU time (user + system) a process has used so far, in microseconds, from /proc. */
function cpuMicrosOf(pid) {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime and stime, in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Requests per second at c=50 for each target in turn (the order rotates between
 * rounds), and the CPU each target's own process spent per request, the figure
 * least moved by the machine's noise.
 */
async function throughputRound(targets, round) {
  const results = new Array(targets.length);
  for (let step = 0; step < targets.length; step++) {
    const index = (step + round) % targets.length;
    const target = targets[index];
    const cpuBefore = cpuMicrosOf(target.pid);
    const result = await autocannon({
      url: `${target.origin}/v1/chat/completions`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chatBody,
      connections: 50,
      duration: settings.throughputSeconds,
    });
    results[index] = {
      requestsPerSecond: result.requests.total / result.duration,
      p99Ms: result.latency.p99,
      cpuMicrosPerRequest: (cpuMicrosOf(target.pid) - cpuBefore) / result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
    };
  }
  return results;
}

/**
 * One SSE stream: arrival times of its content frames and whether it ended with
 * [DONE] and no error event. `onOpen` is called once the response's headers are in.
 */
async function readStream(dispatcher, origin, onOpen = () => {}) {
  const started = performance.now();
  const arrivals = [];
  let done = false;
  let errorEvent = false;
  const response = await dispatcher.request({
    origin,
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body: streamBody,
  });
  onOpen();
  let carry = "";
  for await (const chunk of response.body) {
    const now = performance.now();
    const text = carry + chunk.toString("utf8");
    const cut = text.lastIndexOf("\n\n");
    const complete = cut >= 0 ? text.slice(0, cut) : "";
    carry = cut >= 0 ? text.slice(cut + 2) : text;
    let from = 0;
    for (;;) {
      const found = complete.indexOf('"content":"token', from);
      if (found < 0) break;
      arrivals.push(now - started);
      from = found + 1;
    }
    if (complete.includes('"error"')) errorEvent = true;
    if (complete.includes("data: [DONE]")) done = true;
  }
  return { arrivals, done, errorEvent };
}

// Open loop: a new stream every 50 ms, rotating over the targets (about 8 in flight
// on each), each read whole so that its connection is reused. Stopping after the
// first chunk would tear connections down and measure connection set-up; starting
// streams in batches, or many at once, would measure the burst on two cores rather
// than the first chunk.
async function timeToFirstChunk(targets) {
  const spacingMs = 50;
  const agent = new Agent({ connections: 512, keepAliveTimeout: 60_000 });
  const samples = targets.map(() => []);
  const warmUp = targets.map((target) => readStream(agent, target.origin));
  await Promise.all(warmUp);
  const streams = [];
  for (let index = 0; index < settings.ttfcSamples * targets.length; index++) {
    const target = index % targets.length;
    streams.push(
      readStream(agent, targets[target].origin).then((stream) => {
        samples[target].push(stream.arrivals[0]);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
  }
  await Promise.all(streams);
  await agent.close();
  return samples.map((list) => {
    const sorted = sortNumbers(list);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
  });
}

/**
 * CPU each proxy's process spends per streamed delta: streams of `manyDeltas`
 * unpaced deltas read one after the other through each target in turn; the CPU
 * the process used over them divided by the deltas delivered.
 */
async function cpuPerDelta(targets) {
  const agent = new Agent({ connections: 4, keepAliveTimeout: 60_000 });
  const results = [];
  for (const target of targets) {
    await readStream(agent, target.origin);
    const cpuBefore = cpuMicrosOf(target.pid);
    let delivered = 0;
    let whole = 0;
    for (let index = 0; index < settings.deltaStreams; index++) {
      const stream = await readStream(agent, target.origin);
      delivered += stream.arrivals.length;
      if (stream.done && !stream.errorEvent && stream.arrivals.length === manyDeltas) whole++;
    }
    results.push({
      cpuMicrosPerDelta: (cpuMicrosOf(target.pid) - cpuBefore) / delivered,
      whole,
      streams: settings.deltaStreams,
    });
  }
  await agent.close();
  return results;
}

function gapsOf(arrivals) {
  const gaps = [];
  for (let index = 1; index < arrivals.length; index++)
    gaps.push(arrivals[index] - arrivals[index - 1]);
  return gaps;
}

async function interChunkGaps(target) {
  const agent = new Agent({ connections: settings.gapStreams });
  const streams = await Promise.all(
    Array.from({ length: settings.gapStreams }, () => readStream(agent, target.origin)),
  );
  await agent.close();
  const gaps = sortNumbers(streams.flatMap((stream) => gapsOf(stream.arrivals)));
  return {
    mean: gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length,
    p99: percentile(gaps, 0.99),
  };
}

function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * N concurrent streams through one target, opened in waves of `settings.waveSize`
 * (the next wave once the last one's headers are in: opening thousands at once
 * overflows the listen backlogs and measures SYN retries, not the proxy). Are they
 * all whole and on time, how many were open at once, and the process's peak RSS?
 */
async function holdStreams(target, count, { expectDeltas = deltas, pacingMs = intervalMs } = {}) {
  const agent = new Agent({ connections: count + 10, keepAliveTimeout: 60_000 });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(target.pid));
  }, 100);
  let open = 0;
  let peakOpen = 0;
  const started = performance.now();
  const streams = [];
  for (let from = 0; from < count; from += settings.waveSize) {
    const wave = [];
    for (let index = from; index < Math.min(count, from + settings.waveSize); index++) {
      let markOpen = () => {};
      wave.push(
        new Promise((resolve) => {
          markOpen = resolve;
        }),
      );
      const onOpen = () => {
        open++;
        peakOpen = Math.max(peakOpen, open);
        markOpen();
      };
      streams.push(
        readStream(agent, target.origin, onOpen)
          .catch((error) => ({ arrivals: [], done: false, errorEvent: true, error }))
          .then((stream) => {
            open--;
            markOpen();
            return stream;
          }),
      );
    }
    await Promise.all(wave);
  }
  const openingMs = performance.now() - started;
  const finished = await Promise.all(streams);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssOf(target.pid));
  await agent.close();
  let whole = 0;
  const lateness = [];
  for (const stream of finished) {
    if (stream.done && !stream.errorEvent && stream.arrivals.length === expectDeltas) whole++;
    const first = stream.arrivals[0] ?? 0;
    for (const [index, arrival] of stream.arrivals.entries())
      lateness.push(arrival - first - index * pacingMs);
  }
  const p99LatenessMs = percentile(sortNumbers(lateness), 0.99);
  return { streams: count, whole, peakOpen, openingMs, p99LatenessMs, peakRssBytes: peakRss };
}

const format = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const formatSpread = (figure, digits = 2, unit = "") =>
  `${format(figure.median, digits)}${unit} (${format(figure.min, digits)}–${format(figure.max, digits)})`;
const megabytes = (bytes) => bytes / 1024 / 1024;

async function main() {
  const results = {
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      memoryBytes: totalmem(),
      node: process.version,
      quick,
    },
    settings,
  };
  // The registry asks providers to stream even for a JSON client (see its README), so
  // the upstream of the JSON sections streams its answer as one delta: the same text
  // as its JSON answer. The streaming sections have upstreams of their own: paced
  // (64 deltas 20 ms apart), unpaced (10,000 deltas at once) and idle (4 deltas
  // seconds apart).
  const upstream = await startChild([
    join(here, "upstream.mjs"),
    "--deltas",
    "1",
    "--interval",
    "0",
  ]);
  const pacedUpstream = await startChild([
    join(here, "upstream.mjs"),
    "--deltas",
    String(deltas),
    "--interval",
    String(intervalMs),
  ]);
  const manyUpstream = await startChild([
    join(here, "upstream.mjs"),
    "--deltas",
    String(manyDeltas),
    "--interval",
    "0",
  ]);
  const capacityUpstream = await startChild([
    join(here, "upstream.mjs"),
    "--deltas",
    String(capacityDeltas),
    "--interval",
    String(intervalMs),
  ]);
  const idleUpstream = await startChild([
    join(here, "upstream.mjs"),
    "--deltas",
    String(idleDeltas),
    "--interval",
    String(idleIntervalMs),
  ]);
  const origin = (port) => `http://127.0.0.1:${port}`;
  const upstreamOrigin = origin(upstream.info.healthy);
  const pacedOrigin = origin(pacedUpstream.info.healthy);
  const manyOrigin = origin(manyUpstream.info.healthy);
  const passthrough = await startChild([join(here, "passthrough.mjs"), upstreamOrigin]);
  const pacedPassthrough = await startChild([join(here, "passthrough.mjs"), pacedOrigin]);
  const manyPassthrough = await startChild([join(here, "passthrough.mjs"), manyOrigin]);
  const capacityOrigin = origin(capacityUpstream.info.healthy);
  const capacityPassthrough = await startChild([join(here, "passthrough.mjs"), capacityOrigin]);
  const single = (port) => [amigo("amigochat", port, { retry: { maxAttempts: 1 } })];
  const registry = await startRegistry("healthy", single(upstream.info.healthy));
  const pacedRegistry = await startRegistry("paced", single(pacedUpstream.info.healthy));
  const manyRegistry = await startRegistry("many", single(manyUpstream.info.healthy));
  const idleRegistry = await startRegistry("idle", single(idleUpstream.info.healthy));
  const capacityRegistry = await startRegistry("capacity", single(capacityUpstream.info.healthy));
  const target = (name, server, pid) => ({
    name,
    origin: server.origin ?? origin(server.info.port),
    pid: pid ?? server.child.pid,
  });
  const targets = [
    { name: "direct", origin: upstreamOrigin, pid: upstream.child.pid },
    target("bare passthrough", passthrough),
    target("registry", registry),
  ];
  const pacedTargets = [
    { name: "direct", origin: pacedOrigin, pid: pacedUpstream.child.pid },
    target("bare passthrough", pacedPassthrough),
    target("registry", pacedRegistry),
  ];
  const capacityTargets = [
    { name: "direct", origin: capacityOrigin, pid: capacityUpstream.child.pid },
    target("bare passthrough", capacityPassthrough),
    target("registry", capacityRegistry),
  ];
  const manyTargets = [
    target("bare passthrough", manyPassthrough),
    target("registry", manyRegistry),
  ];
  // G4F_BENCH_BASELINE_CLI=<another build's apps/registry/dist/cli.js>: that build
  // runs beside this one as "registry before" in the sections a change is judged
  // by, interleaved with the others, so before/after are ratios of one run.
  const baselineCli = process.env.G4F_BENCH_BASELINE_CLI;
  if (baselineCli) {
    const options = { cli: baselineCli };
    const before = (name, port) => startRegistry(name, single(port), options);
    targets.push(target("registry before", await before("before", upstream.info.healthy)));
    pacedTargets.push(
      target("registry before", await before("paced-before", pacedUpstream.info.healthy)),
    );
    manyTargets.push(
      target("registry before", await before("many-before", manyUpstream.info.healthy)),
    );
  }
  // Provider count: the same one answering provider (OpenAI-compatible, model
  // gpt-4o-mini) alone, and behind N - 1 others that each serve a model of their own.
  const providerCountRegistries = [];
  for (const count of wanted("count") ? settings.providerCounts : []) {
    const providers = [openAICompatible("answering", upstream.info.healthy, ["gpt-4o-mini"])];
    for (let index = 1; index < count; index++)
      providers.push(openAICompatible(`other${index}`, upstream.info.healthy, [`model-${index}`]));
    const server = await startRegistry(`providers-${count}`, providers);
    providerCountRegistries.push(target(`${count} providers`, server));
  }

  console.log(
    `g4f-ts bench${quick ? " (quick)" : ""}: ${results.machine.cores} cores, Node ${process.version}, ${settings.rounds} rounds`,
  );
  const capacityStreams = { expectDeltas: capacityDeltas, pacingMs: intervalMs };
  const rounds = [];
  for (let round = 0; round < settings.rounds; round++) {
    const figures = {};
    const latency = wanted("latency") ? await latencyRound(targets, settings.latencyRequests) : [];
    if (wanted("latency")) {
      figures.latency = latency;
      figures.addedP50 = {
        bare: latency[1].p50 - latency[0].p50,
        registry: latency[2].p50 - latency[0].p50,
      };
      figures.addedP99 = {
        bare: latency[1].p99 - latency[0].p99,
        registry: latency[2].p99 - latency[0].p99,
      };
    }
    const throughput = wanted("throughput") ? await throughputRound(targets, round) : [];
    if (wanted("throughput"))
      figures.throughput = Object.fromEntries(
        targets.map((one, index) => [one.name, throughput[index]]),
      );
    const ttfc = wanted("ttfc") ? await timeToFirstChunk(pacedTargets) : [];
    if (wanted("ttfc")) {
      figures.addedFirstChunkP50 = {
        bare: ttfc[1].p50 - ttfc[0].p50,
        registry: ttfc[2].p50 - ttfc[0].p50,
      };
      figures.addedFirstChunkP99 = {
        bare: ttfc[1].p99 - ttfc[0].p99,
        registry: ttfc[2].p99 - ttfc[0].p99,
      };
    }
    const perDelta = wanted("delta")
      ? await cpuPerDelta(round % 2 === 0 ? manyTargets : [...manyTargets].reverse())
      : [];
    if (round % 2 === 1) perDelta.reverse();
    if (wanted("delta")) figures.cpuPerDelta = { bare: perDelta[0], registry: perDelta[1] };
    const big = wanted("body")
      ? await latencyRound(targets, settings.bigBodyRequests, { body: bigBody, warmup: 3 })
      : [];
    if (wanted("body"))
      figures.bigBodyAddedP50 = {
        bare: big[1].p50 - big[0].p50,
        registry: big[2].p50 - big[0].p50,
      };
    if (baselineCli) {
      // Each a ratio to the bare passthrough of the same round: before, then after.
      const bare = throughput[1] ?? {};
      // A figure of a section that did not run is NaN (`--only`).
      const pair = (compute) => {
        try {
          return compute();
        } catch {
          return [Number.NaN, Number.NaN];
        }
      };
      figures.beforeAfter = {
        addedP50: pair(() =>
          [latency[3].p50 - latency[0].p50, latency[2].p50 - latency[0].p50].map(
            (added) => added / figures.addedP50.bare,
          ),
        ),
        throughput: pair(() =>
          [throughput[3], throughput[2]].map(
            (one) => one.requestsPerSecond / bare.requestsPerSecond,
          ),
        ),
        cpuPerRequest: pair(() =>
          [throughput[3], throughput[2]].map(
            (one) => one.cpuMicrosPerRequest / bare.cpuMicrosPerRequest,
          ),
        ),
        addedFirstChunkP50: pair(() => [ttfc[3].p50 - ttfc[1].p50, ttfc[2].p50 - ttfc[1].p50]),
        cpuPerDelta: pair(() =>
          [perDelta[2], perDelta[1]].map(
            (one) => one.cpuMicrosPerDelta / perDelta[0].cpuMicrosPerDelta,
          ),
        ),
        bigBodyAddedP50: pair(() =>
          [big[3].p50 - big[0].p50, big[2].p50 - big[0].p50].map(
            (added) => added / figures.bigBodyAddedP50.bare,
          ),
        ),
      };
    }
    if (wanted("count")) {
      const countLatency = await latencyRound(
        providerCountRegistries,
        settings.latencyRequests / 2,
      );
      const countThroughput = await throughputRound(providerCountRegistries, round);
      figures.providerCount = settings.providerCounts.map((providers, index) => ({
        providers,
        p50: countLatency[index].p50,
        cpuMicrosPerRequest: countThroughput[index].cpuMicrosPerRequest,
        requestsPerSecond: countThroughput[index].requestsPerSecond,
      }));
    }
    // The capacity level of the targets (1,000 streams in a full run) every round, so
    // that a verdict that flips shows as a spread.
    const level = settings.capacityLevels[0];
    if (wanted("capacity"))
      figures.capacity = {
        direct: await holdStreams(capacityTargets[0], level, capacityStreams),
        bare: await holdStreams(capacityTargets[1], level, capacityStreams),
        registry: await holdStreams(capacityTargets[2], level, capacityStreams),
      };
    rounds.push(figures);
    console.log(
      `round ${round + 1}/${settings.rounds}: added p50 ${format(figures.addedP50?.registry, 3)} ms (bare ${format(figures.addedP50?.bare, 3)}), ${format(throughput[2]?.requestsPerSecond, 0)} req/s (bare ${format(throughput[1]?.requestsPerSecond, 0)})`,
    );
  }
  results.rounds = rounds;

  // A section that did not run (`--only`) gives NaN, printed as nothing.
  const ratioOf = (pick) =>
    spread(
      rounds.map((figures) => {
        try {
          return pick(figures);
        } catch {
          return Number.NaN;
        }
      }),
    );
  const summary = {
    addedP50: {
      bare: ratioOf((f) => f.addedP50.bare),
      registry: ratioOf((f) => f.addedP50.registry),
      ratio: ratioOf((f) => f.addedP50.registry / f.addedP50.bare),
    },
    addedP99: {
      bare: ratioOf((f) => f.addedP99.bare),
      registry: ratioOf((f) => f.addedP99.registry),
      ratio: ratioOf((f) => f.addedP99.registry / f.addedP99.bare),
    },
    throughput: {
      direct: ratioOf((f) => f.throughput.direct.requestsPerSecond),
      bare: ratioOf((f) => f.throughput["bare passthrough"].requestsPerSecond),
      registry: ratioOf((f) => f.throughput.registry.requestsPerSecond),
      ratio: ratioOf(
        (f) =>
          f.throughput.registry.requestsPerSecond /
          f.throughput["bare passthrough"].requestsPerSecond,
      ),
    },
    cpuPerRequest: {
      bare: ratioOf((f) => f.throughput["bare passthrough"].cpuMicrosPerRequest),
      registry: ratioOf((f) => f.throughput.registry.cpuMicrosPerRequest),
      ratio: ratioOf(
        (f) =>
          f.throughput.registry.cpuMicrosPerRequest /
          f.throughput["bare passthrough"].cpuMicrosPerRequest,
      ),
    },
    p99AtC50: {
      bare: ratioOf((f) => f.throughput["bare passthrough"].p99Ms),
      registry: ratioOf((f) => f.throughput.registry.p99Ms),
    },
    addedFirstChunkP50: {
      bare: ratioOf((f) => f.addedFirstChunkP50.bare),
      registry: ratioOf((f) => f.addedFirstChunkP50.registry),
      difference: ratioOf((f) => f.addedFirstChunkP50.registry - f.addedFirstChunkP50.bare),
    },
    cpuPerDelta: {
      bare: ratioOf((f) => f.cpuPerDelta.bare.cpuMicrosPerDelta),
      registry: ratioOf((f) => f.cpuPerDelta.registry.cpuMicrosPerDelta),
      ratio: ratioOf(
        (f) => f.cpuPerDelta.registry.cpuMicrosPerDelta / f.cpuPerDelta.bare.cpuMicrosPerDelta,
      ),
      wholeStreams: rounds.every(
        (f) => f.cpuPerDelta?.registry.whole === f.cpuPerDelta?.registry.streams,
      ),
    },
    bigBodyAddedP50: {
      bare: ratioOf((f) => f.bigBodyAddedP50.bare),
      registry: ratioOf((f) => f.bigBodyAddedP50.registry),
      ratio: ratioOf((f) => f.bigBodyAddedP50.registry / f.bigBodyAddedP50.bare),
    },
    providerCount: {
      providers: settings.providerCounts,
      p50Ratio: ratioOf((f) => f.providerCount.at(-1).p50 / f.providerCount[0].p50),
      cpuRatio: ratioOf(
        (f) => f.providerCount.at(-1).cpuMicrosPerRequest / f.providerCount[0].cpuMicrosPerRequest,
      ),
    },
    capacity: {
      streams: settings.capacityLevels[0],
      registryWholeEveryRound: rounds.every(
        (f) => f.capacity?.registry.whole === settings.capacityLevels[0],
      ),
      registryPeakOpen: ratioOf((f) => f.capacity.registry.peakOpen),
      bareRss: ratioOf((f) => megabytes(f.capacity.bare.peakRssBytes)),
      registryRss: ratioOf((f) => megabytes(f.capacity.registry.peakRssBytes)),
      registryP99Lateness: ratioOf((f) => f.capacity.registry.p99LatenessMs),
      directP99Lateness: ratioOf((f) => f.capacity.direct.p99LatenessMs),
    },
  };
  results.summary = summary;
  if (baselineCli) {
    const names = {
      addedP50: "added p50 at c=1 / bare's",
      throughput: "throughput at c=50 / bare's",
      cpuPerRequest: "CPU per request at c=50 / bare's",
      addedFirstChunkP50: "added first chunk p50 - bare's (ms)",
      cpuPerDelta: "CPU per streamed delta / bare's",
      bigBodyAddedP50: "added p50, 1 MB body / bare's",
    };
    results.beforeAfter = Object.fromEntries(
      Object.keys(names).map((key) => [
        key,
        {
          before: ratioOf((f) => f.beforeAfter[key][0]),
          after: ratioOf((f) => f.beforeAfter[key][1]),
        },
      ]),
    );
    console.log(
      `\nBefore (${baselineCli}) and after, median (min–max) over ${settings.rounds} rounds:`,
    );
    printTable(
      ["measure", "before", "after"],
      Object.entries(names).map(([key, name]) => [
        name,
        formatSpread(results.beforeAfter[key].before, 2),
        formatSpread(results.beforeAfter[key].after, 2),
      ]),
    );
  }

  if (chosenSections !== undefined) {
    printTargets(results, summary);
    return;
  }

  results.interChunk = {};
  for (const one of pacedTargets) results.interChunk[one.name] = await interChunkGaps(one);

  // Larger capacity levels, once each, registry and direct.
  results.streamCapacity = [];
  for (const count of settings.capacityLevels.slice(1)) {
    const direct = await holdStreams(capacityTargets[0], count, capacityStreams);
    const level = await holdStreams(capacityTargets[2], count, capacityStreams);
    level.directP99LatenessMs = direct.p99LatenessMs;
    results.streamCapacity.push(level);
  }

  // Streams held open and idle between deltas (4 deltas seconds apart), through the
  // registry, at each level: peak RSS, and the RSS per stream beyond the smallest level.
  results.idleStreams = [];
  const idleBaselineRss = rssOf(idleRegistry.child.pid);
  for (const count of settings.idleLevels) {
    const level = await holdStreams(
      { name: "registry", origin: idleRegistry.origin, pid: idleRegistry.child.pid },
      count,
      { expectDeltas: idleDeltas, pacingMs: idleIntervalMs },
    );
    results.idleStreams.push(level);
  }

  // Fallback: the first candidate answers 503 at once (and is never put in cooldown);
  // cooldown skip: the first candidate is cooling down for the whole run.
  const fallback = await startRegistry("fallback", fallbackProviders(upstream.info), {
    extra: { cooldown: { durationMs: 0 } },
  });
  const cooldown = await startRegistry("cooldown", fallbackProviders(upstream.info), {
    extra: { cooldown: { failureThreshold: 1, durationMs: 600_000, maxDurationMs: 600_000 } },
  });
  const fallbackLatency = await latencyRound(
    [
      targets[2],
      { name: "fallback", origin: fallback.origin },
      { name: "cooldown", origin: cooldown.origin },
    ],
    settings.fallbackRequests,
  );
  results.fallback = {
    healthy: fallbackLatency[0],
    after503: fallbackLatency[1],
    cooldownSkip: fallbackLatency[2],
    addedBy503: {
      p50: fallbackLatency[1].p50 - fallbackLatency[0].p50,
      p99: fallbackLatency[1].p99 - fallbackLatency[0].p99,
    },
    addedByCooldownSkip: {
      p50: fallbackLatency[2].p50 - fallbackLatency[0].p50,
      p99: fallbackLatency[2].p99 - fallbackLatency[0].p99,
    },
  };

  results.sseDecode = await measureSseDecode({
    megabytes: settings.sseMegabytes,
    rounds: settings.sseRounds,
  });

  // The targets of issue 15, each a ratio to the bare passthrough in this run,
  // judged on the median over rounds.
  const idle = results.idleStreams;
  // The cost of a held stream: the peak RSS at the largest level beyond the RSS of
  // the same registry before any stream, per stream (an upper bound: it counts the
  // heap the streams left behind too); 10,000 projected from it.
  const largest = idle.at(-1);
  const idleSlope =
    largest === undefined ? Number.NaN : (largest.peakRssBytes - idleBaselineRss) / largest.streams;
  const idleAt10000 = idleBaselineRss + idleSlope * 10_000;
  const capacity = summary.capacity;
  results.targets = [
    {
      measure: "added p50 at c=1 (ms)",
      bare: summary.addedP50.bare,
      registry: summary.addedP50.registry,
      ratio: summary.addedP50.ratio,
      target: "<= 1.3x",
      met: summary.addedP50.ratio.median <= 1.3,
    },
    {
      measure: "throughput at c=50 (req/s)",
      bare: summary.throughput.bare,
      registry: summary.throughput.registry,
      ratio: summary.throughput.ratio,
      target: ">= 0.7x",
      met: summary.throughput.ratio.median >= 0.7,
    },
    {
      measure: "CPU per request at c=50 (µs)",
      bare: summary.cpuPerRequest.bare,
      registry: summary.cpuPerRequest.registry,
      ratio: summary.cpuPerRequest.ratio,
      target: "<= 1.5x",
      met: summary.cpuPerRequest.ratio.median <= 1.5,
    },
    {
      measure: "added first chunk p50 (ms)",
      bare: summary.addedFirstChunkP50.bare,
      registry: summary.addedFirstChunkP50.registry,
      ratio: summary.addedFirstChunkP50.difference,
      ratioUnit: " ms more",
      target: "<= bare + 0.3 ms",
      met: summary.addedFirstChunkP50.difference.median <= 0.3,
    },
    {
      measure: `CPU per streamed delta, ${manyDeltas}-delta stream (µs)`,
      bare: summary.cpuPerDelta.bare,
      registry: summary.cpuPerDelta.registry,
      ratio: summary.cpuPerDelta.ratio,
      target: "<= 2.5x, every delta",
      met: summary.cpuPerDelta.ratio.median <= 2.5 && summary.cpuPerDelta.wholeStreams,
    },
    {
      measure: "added p50, 1 MB request body (ms)",
      bare: summary.bigBodyAddedP50.bare,
      registry: summary.bigBodyAddedP50.registry,
      ratio: summary.bigBodyAddedP50.ratio,
      target: "<= 2x",
      met: summary.bigBodyAddedP50.ratio.median <= 2,
    },
    {
      measure: `${capacity.streams} concurrent streams, peak RSS (MB)`,
      bare: capacity.bareRss,
      registry: capacity.registryRss,
      ratio: ratioOf((f) => f.capacity.registry.peakRssBytes / f.capacity.bare.peakRssBytes),
      target: "< 200 MB, every delta",
      met: capacity.registryWholeEveryRound && capacity.registryRss.max < 200,
    },
    {
      measure: `10,000 idle streams, RSS (MB; measured at ${idle.map((level) => level.streams).join(", ")})`,
      bare: spread([]),
      registry: spread([megabytes(idleAt10000)]),
      ratio: spread([]),
      target: "< 1024 MB (projected)",
      // Too few streams (a quick run) to project from: the heap the warm-up left dominates.
      met:
        largest === undefined || largest.streams < 1000
          ? null
          : megabytes(idleAt10000) < 1024 && idle.every((level) => level.whole === level.streams),
    },
    {
      measure: `${settings.providerCounts.at(-1)} providers vs 1: CPU per request`,
      bare: spread([]),
      registry: spread([]),
      ratio: summary.providerCount.cpuRatio,
      target: "flat (<= 1.1x)",
      met: summary.providerCount.cpuRatio.median <= 1.1,
    },
    {
      measure: `${settings.providerCounts.at(-1)} providers vs 1: p50 at c=1`,
      bare: spread([]),
      registry: spread([]),
      ratio: summary.providerCount.p50Ratio,
      target: "flat (<= 1.1x)",
      met: summary.providerCount.p50Ratio.median <= 1.1,
    },
  ];
  results.idleProjection = {
    baselineRssBytes: idleBaselineRss,
    bytesPerStream: idleSlope,
    rssAt10000Bytes: idleAt10000,
  };

  const targetRows = results.targets.map((row) => [
    row.measure,
    Number.isFinite(row.bare.median) ? formatSpread(row.bare, 3) : "",
    Number.isFinite(row.registry.median) ? formatSpread(row.registry, 3) : "",
    Number.isFinite(row.ratio.median) ? formatSpread(row.ratio, 2, row.ratioUnit ?? "x") : "",
    row.target,
    row.met === null ? "too few to say" : row.met ? "met" : "NOT met",
  ]);
  console.log(`\nTargets of issue 15, median (min–max) over ${settings.rounds} rounds:`);
  printTable(
    ["measure", "bare passthrough", "registry", "registry / bare", "target", "verdict"],
    targetRows,
  );

  const rows = [
    [
      "added p99 at c=1 (ms)",
      formatSpread(summary.addedP99.bare, 3),
      formatSpread(summary.addedP99.registry, 3),
      formatSpread(summary.addedP99.ratio, 2, "x"),
    ],
    [
      "p99 at c=50 (ms)",
      formatSpread(summary.p99AtC50.bare, 1),
      formatSpread(summary.p99AtC50.registry, 1),
      "",
    ],
    ["direct throughput at c=50 (req/s)", "", formatSpread(summary.throughput.direct, 0), ""],
    [
      "added inter-chunk gap, mean (ms)",
      format(results.interChunk["bare passthrough"].mean - results.interChunk.direct.mean, 3),
      format(results.interChunk.registry.mean - results.interChunk.direct.mean, 3),
      "",
    ],
    [
      `${capacity.streams} streams: whole, open at once, p99 late (ms)`,
      "",
      `${capacity.registryWholeEveryRound ? "all whole every round" : "NOT all whole"}, ${formatSpread(capacity.registryPeakOpen, 0)} open, late ${formatSpread(capacity.registryP99Lateness, 1)} (direct ${formatSpread(capacity.directP99Lateness, 1)})`,
      "",
    ],
    ...results.streamCapacity.map((level) => [
      `${level.streams} concurrent streams`,
      "",
      `${level.whole}/${level.streams} whole, ${level.peakOpen} open at once, p99 late ${format(level.p99LatenessMs, 1)} ms (direct ${format(level.directP99LatenessMs, 1)}), RSS ${format(megabytes(level.peakRssBytes), 0)} MB`,
      "",
    ]),
    ...results.idleStreams.map((level) => [
      `${level.streams} idle streams`,
      "",
      `${level.whole}/${level.streams} whole, ${level.peakOpen} open at once, RSS ${format(megabytes(level.peakRssBytes), 0)} MB`,
      "",
    ]),
    [
      "idle stream RSS slope (KB/stream)",
      "",
      `${format(idleSlope / 1024, 1)}, 10,000 projected ${format(megabytes(idleAt10000), 0)} MB`,
      "",
    ],
    [
      "fallback after immediate 503, p50 added (ms)",
      "",
      format(results.fallback.addedBy503.p50, 3),
      "",
    ],
    ["cooldown skip, p50 added (ms)", "", format(results.fallback.addedByCooldownSkip.p50, 3), ""],
    [
      "SSE decode (MB/s), core vs parser | parser + JSON",
      `${format(results.sseDecode.bare.megabytesPerSecond, 1)} | ${format(results.sseDecode.withJson.megabytesPerSecond, 1)}`,
      format(results.sseDecode.core.megabytesPerSecond, 1),
      `${format(results.sseDecode.ratio, 2)}x | ${format(results.sseDecode.ratioToJson, 2)}x`,
    ],
  ];
  console.log("\nOther figures:");
  printTable(["measure", "bare passthrough", "registry", "ratio"], rows);
  writeFileSync(join(here, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${join(here, "results.json")}`);
}

/** `--only`: the figures of the sections that ran, each a ratio to the passthrough. */
function printTargets(results, summary) {
  const rows = [
    ["added p50 at c=1 (ms)", summary.addedP50, "x"],
    ["throughput at c=50 (req/s)", summary.throughput, "x"],
    ["CPU per request at c=50 (µs)", summary.cpuPerRequest, "x"],
    [
      "added first chunk p50 (ms)",
      { ...summary.addedFirstChunkP50, ratio: summary.addedFirstChunkP50.difference },
      " ms more",
    ],
    ["CPU per streamed delta (µs)", summary.cpuPerDelta, "x"],
    ["added p50, 1 MB request body (ms)", summary.bigBodyAddedP50, "x"],
  ].filter(([, figure]) => Number.isFinite(figure.registry.median));
  console.log(
    `\nSections ${[...chosenSections].join(", ")}, median (min–max) over ${settings.rounds} rounds:`,
  );
  printTable(
    ["measure", "bare passthrough", "registry", "registry / bare"],
    rows.map(([name, figure, unit]) => [
      name,
      formatSpread(figure.bare, 3),
      formatSpread(figure.registry, 3),
      formatSpread(figure.ratio, 2, unit),
    ]),
  );
  if (Number.isFinite(summary.providerCount.cpuRatio.median))
    console.log(
      `${summary.providerCount.providers.at(-1)} providers vs 1: CPU per request ${formatSpread(summary.providerCount.cpuRatio, 2, "x")}, p50 ${formatSpread(summary.providerCount.p50Ratio, 2, "x")}`,
    );
  if (results.summary.capacity.registryRss.median > 0)
    console.log(
      `capacity: registry peak RSS ${formatSpread(summary.capacity.registryRss, 0, " MB")}, ${summary.capacity.registryWholeEveryRound ? "all whole" : "NOT all whole"}`,
    );
}

function printTable(header, rows) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => String(row[column]).length)),
  );
  const line = (cells) =>
    cells.map((cell, column) => String(cell).padEnd(widths[column])).join("  ");
  console.log(line(header));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of rows) console.log(line(row));
}

try {
  await main();
} finally {
  stopChildren();
}
