// `pnpm bench`: what the registry adds, measured in one run against a direct call to
// the upstream and against a bare passthrough proxy (the physical limit of a Node
// proxy on this machine). Prints one table and writes bench/results.json.
// `--quick` runs every section briefly (CI checks that it runs and writes JSON).
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
const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const quick = flags.quick;
const settings = quick
  ? {
      warmup: 50,
      latencyRequests: 300,
      throughputSeconds: 2,
      throughputRounds: 1,
      ttfcSamples: 50,
      gapStreams: 10,
      streamLevels: [50, 100],
      fallbackRequests: 100,
      sseMegabytes: 5,
      sseRounds: 1,
    }
  : {
      warmup: 300,
      latencyRequests: 3000,
      throughputSeconds: 5,
      throughputRounds: 2,
      ttfcSamples: 300,
      gapStreams: 50,
      streamLevels: [250, 500, 1000, 2000],
      fallbackRequests: 1000,
      sseMegabytes: 50,
      sseRounds: 3,
    };
const deltas = 64;
const intervalMs = 20;
const chatBody = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
});
const streamBody = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
  stream: true,
});
const amigo = (id, port, options = {}) => ({
  id,
  use: "@g4f-ts/provider-amigochat",
  enabled: true,
  options: { baseUrl: `http://127.0.0.1:${port}`, ...options },
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
async function latencyRound(targets, count) {
  const pools = targets.map((target) => new Pool(target.origin, { connections: 1 }));
  const samples = targets.map(() => []);
  for (let index = 0; index < settings.warmup; index++) {
    for (let target = 0; target < targets.length; target++)
      await timedJson(pools[target], "/v1/chat/completions", chatBody);
  }
  for (let index = 0; index < count; index++) {
    for (let target = 0; target < targets.length; target++) {
      samples[target].push(await timedJson(pools[target], "/v1/chat/completions", chatBody));
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
 * Requests per second at c=50, in rounds that alternate between the targets so that
 * drift in the machine's speed hits all alike; and the CPU each target's own
 * process spent per request, the figure least moved by that noise.
 */
async function throughputRounds(targets) {
  const totals = targets.map(() => ({
    requests: 0,
    seconds: 0,
    p99Ms: 0,
    non2xx: 0,
    errors: 0,
    cpu: 0,
  }));
  for (let round = 0; round < settings.throughputRounds; round++) {
    for (const [index, target] of targets.entries()) {
      const cpuBefore = cpuMicrosOf(target.pid);
      const result = await autocannon({
        url: `${target.origin}/v1/chat/completions`,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chatBody,
        connections: 50,
        duration: settings.throughputSeconds,
      });
      const total = totals[index];
      total.cpu += cpuMicrosOf(target.pid) - cpuBefore;
      total.requests += result.requests.total;
      total.seconds += result.duration;
      total.p99Ms = Math.max(total.p99Ms, result.latency.p99);
      total.non2xx += result.non2xx;
      total.errors += result.errors;
    }
  }
  return Object.fromEntries(
    targets.map((target, index) => {
      const total = totals[index];
      return [
        target.name,
        {
          requestsPerSecond: total.requests / total.seconds,
          p99Ms: total.p99Ms,
          cpuMicrosPerRequest: total.cpu / total.requests,
          non2xx: total.non2xx,
          errors: total.errors,
        },
      ];
    }),
  );
}

/**
 * One SSE stream: arrival times of its content frames and whether it ended with
 * [DONE] and no error event.
 */
async function readStream(dispatcher, origin) {
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

/** N concurrent streams through one target: are they all whole and on time? */
async function holdStreams(target, count, pid) {
  const agent = new Agent({ connections: count + 10, keepAliveTimeout: 60_000 });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(pid));
  }, 100);
  const streams = await Promise.all(
    Array.from({ length: count }, () =>
      readStream(agent, target.origin).catch((error) => ({
        arrivals: [],
        done: false,
        errorEvent: true,
        error,
      })),
    ),
  );
  clearInterval(sampler);
  peakRss = Math.max(peakRss, rssOf(pid));
  await agent.close();
  let whole = 0;
  const lateness = [];
  for (const stream of streams) {
    if (stream.done && !stream.errorEvent && stream.arrivals.length === deltas) whole++;
    const first = stream.arrivals[0] ?? 0;
    for (const [index, arrival] of stream.arrivals.entries())
      lateness.push(arrival - first - index * intervalMs);
  }
  const sortedLateness = sortNumbers(lateness);
  const p99LatenessMs = percentile(sortedLateness, 0.99);
  return { streams: count, whole, p99LatenessMs, peakRssBytes: peakRss };
}

const format = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

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
  // as its JSON answer. The streaming section has an upstream of its own, paced.
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
  const upstreamOrigin = `http://127.0.0.1:${upstream.info.healthy}`;
  const pacedOrigin = `http://127.0.0.1:${pacedUpstream.info.healthy}`;
  const passthrough = await startChild([join(here, "passthrough.mjs"), upstreamOrigin]);
  const pacedPassthrough = await startChild([join(here, "passthrough.mjs"), pacedOrigin]);
  const registry = await startRegistry("healthy", [
    amigo("amigochat", upstream.info.healthy, { retry: { maxAttempts: 1 } }),
  ]);
  const pacedRegistry = await startRegistry("paced", [
    amigo("amigochat", pacedUpstream.info.healthy, { retry: { maxAttempts: 1 } }),
  ]);
  const targets = [
    { name: "direct", origin: upstreamOrigin, pid: upstream.child.pid },
    {
      name: "bare passthrough",
      origin: `http://127.0.0.1:${passthrough.info.port}`,
      pid: passthrough.child.pid,
    },
    { name: "registry", origin: registry.origin, pid: registry.child.pid },
  ];
  const pacedTargets = [
    { name: "direct", origin: pacedOrigin },
    { name: "bare passthrough", origin: `http://127.0.0.1:${pacedPassthrough.info.port}` },
    { name: "registry", origin: pacedRegistry.origin },
  ];

  console.log(
    `g4f-ts bench${quick ? " (quick)" : ""}: ${results.machine.cores} cores, Node ${process.version}`,
  );
  const latency = await latencyRound(targets, settings.latencyRequests);
  results.latency = Object.fromEntries(
    targets.map((target, index) => [target.name, latency[index]]),
  );
  const added = (index, key) => latency[index][key] - latency[0][key];
  results.addedLatency = {
    bare: { p50: added(1, "p50"), p99: added(1, "p99") },
    registry: { p50: added(2, "p50"), p99: added(2, "p99") },
  };

  results.throughput = await throughputRounds(targets);

  const ttfc = await timeToFirstChunk(pacedTargets);
  results.timeToFirstChunk = Object.fromEntries(
    pacedTargets.map((target, index) => [target.name, ttfc[index]]),
  );
  results.interChunk = {};
  for (const target of pacedTargets) results.interChunk[target.name] = await interChunkGaps(target);

  // The client, the upstream and the registry share two cores, so lateness is judged
  // against the direct path's at the same level: held = every stream whole, and p99
  // lateness at most 100 ms beyond the direct path's.
  results.streamCapacity = [];
  for (const count of settings.streamLevels) {
    const direct = await holdStreams(pacedTargets[0], count, pacedUpstream.child.pid);
    const level = await holdStreams(pacedTargets[2], count, pacedRegistry.child.pid);
    level.directP99LatenessMs = direct.p99LatenessMs;
    level.held = level.whole === count && level.p99LatenessMs <= direct.p99LatenessMs + 100;
    results.streamCapacity.push(level);
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

  const rows = [
    [
      "1. added latency c=1, JSON (ms)",
      "p50",
      format(results.addedLatency.bare.p50, 3),
      format(results.addedLatency.registry.p50, 3),
      ratio(results.addedLatency.registry.p50, results.addedLatency.bare.p50),
      "<= 1.5x bare",
    ],
    [
      "",
      "p99",
      format(results.addedLatency.bare.p99, 3),
      format(results.addedLatency.registry.p99, 3),
      ratio(results.addedLatency.registry.p99, results.addedLatency.bare.p99),
      "<= 2x bare",
    ],
    [
      "2. throughput c=50 (req/s)",
      `direct ${format(results.throughput.direct.requestsPerSecond, 0)}`,
      format(results.throughput["bare passthrough"].requestsPerSecond, 0),
      format(results.throughput.registry.requestsPerSecond, 0),
      ratio(
        results.throughput.registry.requestsPerSecond,
        results.throughput["bare passthrough"].requestsPerSecond,
      ),
      ">= 0.7x bare",
    ],
    [
      "   CPU per request at c=50 (µs)",
      "",
      format(results.throughput["bare passthrough"].cpuMicrosPerRequest, 1),
      format(results.throughput.registry.cpuMicrosPerRequest, 1),
      ratio(
        results.throughput.registry.cpuMicrosPerRequest,
        results.throughput["bare passthrough"].cpuMicrosPerRequest,
      ),
      "",
    ],
    [
      "   p99 at c=50 (ms)",
      `direct ${format(results.throughput.direct.p99Ms, 1)}`,
      format(results.throughput["bare passthrough"].p99Ms, 1),
      format(results.throughput.registry.p99Ms, 1),
      "",
      "",
    ],
    [
      "3. added time to first chunk (ms)",
      "p50",
      format(ttfc[1].p50 - ttfc[0].p50, 3),
      format(ttfc[2].p50 - ttfc[0].p50, 3),
      "",
      "registry <= 1 ms",
    ],
    ["", "p99", format(ttfc[1].p99 - ttfc[0].p99, 3), format(ttfc[2].p99 - ttfc[0].p99, 3), "", ""],
    [
      "   added inter-chunk gap, mean (ms)",
      "",
      format(results.interChunk["bare passthrough"].mean - results.interChunk.direct.mean, 3),
      format(results.interChunk.registry.mean - results.interChunk.direct.mean, 3),
      "",
      "",
    ],
    ...results.streamCapacity.map((level) => [
      `   ${level.streams} concurrent streams`,
      `${level.whole}/${level.streams} whole`,
      "",
      `p99 late ${format(level.p99LatenessMs, 1)} ms (direct ${format(level.directP99LatenessMs, 1)}), RSS ${format(level.peakRssBytes / 1024 / 1024, 0)} MB`,
      level.held ? "held" : "NOT held",
      "1000 held, RSS < 300 MB",
    ]),
    [
      "4. fallback after immediate 503 (ms)",
      "p50 added",
      "",
      format(results.fallback.addedBy503.p50, 3),
      "",
      "<= 2 ms",
    ],
    [
      "   cooldown skip (ms)",
      "p50 added",
      "",
      format(results.fallback.addedByCooldownSkip.p50, 3),
      "",
      "~0",
    ],
    [
      "5. SSE decode (MB/s)",
      `parser ${format(results.sseDecode.bare.megabytesPerSecond, 1)}`,
      "",
      format(results.sseDecode.core.megabytesPerSecond, 1),
      `${format(results.sseDecode.ratio, 2)}x`,
      "(none set)",
    ],
    [
      "",
      `parser + JSON ${format(results.sseDecode.withJson.megabytesPerSecond, 1)}`,
      "",
      "",
      `${format(results.sseDecode.ratioToJson, 2)}x`,
      "",
    ],
  ];
  printTable(["measure", "", "bare passthrough", "registry", "ratio", "target"], rows);
  writeFileSync(join(here, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${join(here, "results.json")}`);
}

function ratio(value, base) {
  return Number.isFinite(value / base) ? `${(value / base).toFixed(2)}x` : "n/a";
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
