// `node bench/stream-first-write.mjs [--baseline /tmp/perf-base7] [--requests 2000]
// [--pause-ms 0] [--count]`: the stretch of a streamed chat answer from the moment its
// provider yields the first content to the moment the first byte is handed to the
// client's socket, in the registry (and a baseline build), with an in-memory provider
// (no upstream, so only the registry's own path). Requests go one at a time,
// alternating between the builds, all in this one process.
//
// - `--count` counts, over that stretch, the promises made and the asynchronous
//   callbacks run (an async_hooks hook: both the same whatever the machine's load);
//   without it the stretch is timed (µs, median; it moves with the load, so compare
//   builds of the same run only). `--pause-ms 20` leaves the process idle between
//   requests, as the open-loop first-chunk section of run.mjs does (cold code).
// - It also counts the writes to the client socket per request of an answer whose
//   chunks all come in one turn of the event loop (the provider yields them in one
//   batch), where the number of writes is the cost a short answer pays.
//
// The provider yields the first content one turn after the call starts and the
// finish reason one turn after that, as a network read each would.
import { createHook } from "node:async_hooks";
import { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { inMemoryRegistry } from "./in-memory-registry.mjs";

const { values: flags } = parseArgs({
  options: {
    baseline: { type: "string" },
    requests: { type: "string", default: "2000" },
    warmup: { type: "string", default: "200" },
    "pause-ms": { type: "string", default: "0" },
    count: { type: "boolean", default: false },
  },
});
const requestCount = Number(flags.requests);
const warmupCount = Number(flags.warmup);
const pauseMs = Number(flags["pause-ms"]);
const here = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const roots = [{ name: "registry", root: here }];
if (flags.baseline !== undefined) roots.push({ name: "registry-baseline", root: flags.baseline });

/** The stretch being measured, when one is open: its start and what it counted so far. */
let stretch;
/** Where the figures of the request under way go (undefined during warm-up). */
let record;
let socketWrites = 0;

if (flags.count)
  createHook({
    init(_id, type) {
      if (stretch !== undefined && type === "PROMISE") stretch.promises++;
    },
    before() {
      if (stretch !== undefined) stretch.callbacks++;
    },
  }).enable();

// A server's sockets carry `server`: a write on one is a write to the client.
const { _write: write, _writev: writev } = Socket.prototype;
function clientWrite(socket) {
  if (!socket.server) return;
  socketWrites++;
  if (stretch === undefined) return;
  const ended = stretch;
  stretch = undefined;
  record?.push({ ...ended, us: Number(process.hrtime.bigint() - ended.start) / 1000 });
}
Socket.prototype._write = function (data, encoding, callback) {
  clientWrite(this);
  return write.call(this, data, encoding, callback);
};
Socket.prototype._writev = function (chunks, callback) {
  clientWrite(this);
  return writev.call(this, chunks, callback);
};

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A registry of the build at `root` whose one provider answers in memory, paced or in one batch. */
async function startRegistry(root, paced) {
  const { registry, registryPackage } = await inMemoryRegistry(root, async function* (core) {
    await nextTurn();
    if (!paced) {
      yield ["Hello from the bench upstream!", new core.FinishReason("stop")];
      return;
    }
    stretch = { start: process.hrtime.bigint(), promises: 0, callbacks: 0 };
    yield ["Hello from the bench upstream!"];
    await nextTurn();
    yield [new core.FinishReason("stop")];
  });
  const server = await registryPackage.startServer({ registry, host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${server.httpServer.address().port}/v1/chat/completions`;
}

const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
  stream: true,
});

async function ask(target) {
  const response = await request(target.url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
    dispatcher: target.agent,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200 || !text.endsWith("data: [DONE]\n\n"))
    throw new Error(`unexpected answer ${response.statusCode}: ${text.slice(0, 300)}`);
}

const median = (values) => [...values].sort((left, right) => left - right)[values.length >> 1];
const targets = [];
for (const { name, root } of roots)
  targets.push({
    name,
    url: await startRegistry(root, true),
    oneTurnUrl: await startRegistry(root, false),
    agent: new Agent({ connections: 1 }),
    figures: [],
    writes: 0,
  });

for (let index = 0; index < warmupCount + requestCount; index++)
  for (const target of targets) {
    record = index < warmupCount ? undefined : target.figures;
    await ask(target);
    record = undefined;
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
const oneTurnRequests = 200;
for (const target of targets) {
  await ask({ url: target.oneTurnUrl, agent: target.agent });
  socketWrites = 0;
  for (let index = 0; index < oneTurnRequests; index++)
    await ask({ url: target.oneTurnUrl, agent: target.agent });
  target.writes = socketWrites / oneTurnRequests;
}

console.log(
  `streamed answers, ${requestCount} a build one at a time (${warmupCount} of warm-up), ${pauseMs} ms idle between requests`,
);
console.log("from the provider's first content to the first client socket write, median:");
for (const target of targets) {
  const { figures } = target;
  const measured = flags.count
    ? `${median(figures.map((figure) => figure.promises))} promises, ${median(figures.map((figure) => figure.callbacks))} async callbacks`
    : `${median(figures.map((figure) => figure.us)).toFixed(1)} µs`;
  console.log(
    `${target.name.padEnd(18)} ${measured}; client socket writes per answer that came in one turn: ${target.writes.toFixed(2)}`,
  );
}
process.exit(0);
