// `node bench/scale-out.mjs`: what sharing state through Redis costs. Starts a fake
// upstream, a redis-server on a free loopback port (Debian's, `--save '' --appendonly no`)
// and 1, 2 and 3 `g4f-ts serve` replicas, each in a child of its own; the bench process
// spreads the load over the replicas itself (as a load balancer would). For each state
// mode it prints the throughput of JSON chat completions, and, with one connection to
// one replica, the median latency: the difference to the in-process mode is what the
// Redis round trips add per request. `--quick` runs each step briefly.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { freePort, startChild, startRegistry, stopChildren } from "./processes.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const seconds = flags.quick ? 2 : 5;
const latencyRequests = flags.quick ? 300 : 2000;
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

async function medianLatencyMs(origin, mode) {
  const times = [];
  for (let index = 0; index < latencyRequests; index++) {
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
  times.sort((left, right) => left - right);
  return times[Math.floor(times.length / 2)];
}

const upstream = await startChild([join(here, "upstream.mjs"), "--deltas", "1", "--interval", "0"]);
const redis = await startRedis();
const provider = {
  id: "amigochat",
  use: "@g4f-ts/provider-amigochat",
  enabled: true,
  options: { baseUrl: `http://127.0.0.1:${upstream.info.healthy}`, retry: { maxAttempts: 1 } },
};
const rows = [];
try {
  for (const mode of modes(redis.url)) {
    const replicas = [];
    for (let index = 0; index < 3; index++)
      replicas.push(await startRegistry(`scale-${index}`, [provider], { extra: mode.extra }));
    const origins = replicas.map((replica) => replica.origin);
    // Warm up every replica (connections, JIT, the Redis script cached).
    for (const origin of origins) await medianLatencyMs(origin, mode).catch(() => undefined);
    const row = { mode: mode.name };
    for (const count of [1, 2, 3]) {
      const result = await throughput(origins.slice(0, count), mode);
      row[`${count} replica${count > 1 ? "s" : ""} (req/s)`] = Math.round(result.perSecond);
      if (result.non2xx > 0) row[`non-2xx at ${count}`] = result.non2xx;
    }
    row["median latency, 1 connection (ms)"] = Number(
      (await medianLatencyMs(origins[0], mode)).toFixed(3),
    );
    rows.push(row);
    for (const replica of replicas) replica.child.kill("SIGTERM");
  }
} finally {
  stopChildren();
  redis.child.kill("SIGTERM");
}
console.table(rows);
const base = rows[0]["median latency, 1 connection (ms)"];
for (const row of rows.slice(1))
  console.log(
    `${row.mode}: +${(row["median latency, 1 connection (ms)"] - base).toFixed(3)} ms median per request over in-process state`,
  );
