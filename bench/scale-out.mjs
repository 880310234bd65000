// `node bench/scale-out.mjs`: what sharing state through Redis costs. Starts a fake
// upstream, a redis-server on a free loopback port (Debian's, `--save '' --appendonly no`)
// and 1, 2 and 3 `g4f-ts serve` replicas, each in a child of its own; the bench process
// spreads the load over the replicas itself (as a load balancer would). For each state
// mode it prints the throughput of JSON chat completions, and, with one connection to
// one replica, the median latency: the difference to the in-process mode is what the
// Redis round trips add per request; and the median PING round trip of Redis itself.
// `--quick` runs each step briefly, once.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { freePort, startChild, startRegistry, stopChildren } from "./processes.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const seconds = flags.quick ? 2 : 3;
const latencyRequests = flags.quick ? 300 : 1000;
const connections = 48;
const chatBody = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
});
const benchKey = "bench-key-0123456789";
process.env.BENCH_KEY = benchKey;

async function startRedis() {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (data) => {
      output += data;
      if (output.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  child.stdout.resume();
  return { child, url: `redis://127.0.0.1:${port}` };
}

const modes = (redisUrl) => [
  { name: "in-process state", extra: {}, key: false },
  {
    name: "in-process + key limits",
    extra: {
      server: { apiKeys: [{ env: "BENCH_KEY", rpm: 100_000_000, maxConcurrent: 100_000 }] },
    },
    key: true,
  },
  { name: "Redis state", extra: { state: { redis: { url: redisUrl } } }, key: false },
  {
    name: "Redis + key limits",
    extra: {
      state: { redis: { url: redisUrl } },
      server: { apiKeys: [{ env: "BENCH_KEY", rpm: 100_000_000, maxConcurrent: 100_000 }] },
    },
    key: true,
  },
];

function headersOf(mode) {
  return {
    "content-type": "application/json",
    ...(mode.key ? { authorization: `Bearer ${benchKey}` } : {}),
  };
}

async function throughput(origins, mode) {
  const results = await Promise.all(
    origins.map((origin) =>
      autocannon({
        url: `${origin}/v1/chat/completions`,
        method: "POST",
        headers: headersOf(mode),
        body: chatBody,
        connections: Math.floor(connections / origins.length),
        duration: seconds,
      }),
    ),
  );
  const requests = results.reduce((sum, result) => sum + result.requests.total, 0);
  const non2xx = results.reduce((sum, result) => sum + result.non2xx + result.errors, 0);
  return { perSecond: requests / seconds, non2xx };
}

async function medianLatencyMs(origin, mode, requests) {
  const times = [];
  for (let index = 0; index < requests; index++) {
    const started = performance.now();
    const response = await fetch(`${origin}/v1/chat/completions`, {
      method: "POST",
      headers: headersOf(mode),
      body: chatBody,
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    times.push(performance.now() - started);
  }
  return median(times);
}

/** Median of `count` sequential PINGs on one raw connection: Redis's own round trip here. */
async function redisRoundTripMs(url, count) {
  const { port } = new URL(url);
  const socket = connect(Number(port), "127.0.0.1");
  await once(socket, "connect");
  const times = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    socket.write("PING\r\n");
    await once(socket, "data");
    times.push(performance.now() - started);
  }
  socket.destroy();
  return median(times);
}

function median(values) {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)];
}

const upstream = await startChild([join(here, "upstream.mjs"), "--deltas", "1", "--interval", "0"]);
const redis = await startRedis();
const provider = {
  id: "amigochat",
  use: "@g4f-ts/provider-amigochat",
  enabled: true,
  options: { baseUrl: `http://127.0.0.1:${upstream.info.healthy}`, retry: { maxAttempts: 1 } },
};
// The machine is shared: every mode runs in each of several rounds, in turn, and the
// median over the rounds is reported, so a burst of other work lands on all modes alike.
const rounds = flags.quick ? 1 : 3;
const all = modes(redis.url);
const samples = all.map(() => ({ 1: [], 2: [], 3: [], latency: [], non2xx: 0 }));
let pingMs;
try {
  const origins = [];
  for (const mode of all) {
    const replicas = [];
    for (let index = 0; index < 3; index++)
      replicas.push(await startRegistry(`scale-${index}`, [provider], { extra: mode.extra }));
    origins.push(replicas.map((replica) => replica.origin));
  }
  // Warm up every replica (connections, JIT, the Redis script cached).
  for (const [index, mode] of all.entries())
    for (const origin of origins[index]) await medianLatencyMs(origin, mode, 200);
  for (let round = 0; round < rounds; round++) {
    for (const [index, mode] of all.entries()) {
      for (const count of [1, 2, 3]) {
        const result = await throughput(origins[index].slice(0, count), mode);
        samples[index][count].push(result.perSecond);
        samples[index].non2xx += result.non2xx;
      }
      samples[index].latency.push(await medianLatencyMs(origins[index][0], mode, latencyRequests));
    }
  }
  pingMs = await redisRoundTripMs(redis.url, 2000);
} finally {
  stopChildren();
  redis.child.kill("SIGTERM");
}
const rows = all.map((mode, index) => ({
  mode: mode.name,
  "1 replica (req/s)": Math.round(median(samples[index][1])),
  "2 replicas (req/s)": Math.round(median(samples[index][2])),
  "3 replicas (req/s)": Math.round(median(samples[index][3])),
  "median latency, 1 connection (ms)": Number(median(samples[index].latency).toFixed(3)),
  "non-2xx": samples[index].non2xx,
}));
console.table(rows);
const base = rows[0]["median latency, 1 connection (ms)"];
for (const row of rows.slice(1))
  console.log(
    `${row.mode}: ${(row["median latency, 1 connection (ms)"] - base).toFixed(3)} ms median per request against in-process state`,
  );
console.log(`Redis PING round trip (median of 2000, one connection): ${pingMs.toFixed(3)} ms`);
console.log(
  `${rounds} round(s), ${seconds} s per throughput step, ${latencyRequests} requests per latency sample`,
);
