// The registry's own CPU per request, above the provider: a registry server whose
// only provider is in memory and answers at once (no upstream, no undici, no
// provider-core HTTP call), loaded at c=50 with autocannon, beside a bare node:http
// server doing the least HTTP work of the same request (it reads the JSON body,
// JSON.parses it and answers a `chat.completion` JSON, or with `--stream` the SSE
// events of one). What the registry costs beyond the bare server is its layers:
// routing, the fallback engine, the attempt's timers, gathering and writing the
// answer, metrics, observers, the access log.
//
// Each server runs in a child process of its own (this script with `--serve`), so
// that autocannon's work does not land on the process measured; the parent asks a
// child for its `process.cpuUsage()` (user + system) over IPC before and after each
// run. Variants run in rounds, each round every variant once, the order rotating
// between rounds so that drift hits them alike; it prints CPU µs per request and
// requests per second per round, then the median (min–max) of each variant and its
// ratio to the bare server.
//
//   npx pnpm@10.34.8 build && node bench/registry-layers.mjs [--rounds 5] [--seconds 3] [--connections 50]
//   node bench/registry-layers.mjs --baseline /tmp/perf-base5   (a before/after in one run)
//   node bench/registry-layers.mjs --stream [--deltas 1]        (SSE answers)
//   node bench/registry-layers.mjs --profile [--only registry]  (writes a .cpuprofile per registry)
//
// `--baseline <checkout>` adds "registry-baseline": the same server built from that
// checkout's `apps/registry/dist` and `packages/provider-core/dist` (it must be built).
// `--profile` runs the registry children under `--cpu-prof` and prints each
// profile's path at the end (then `node bench/profile.mjs --file <path>` for self
// time, or an inclusive-time summary); the figures of a profiled run are inflated.
// `--only registry,bare` runs some of the variants. `--count` prints the promises
// made and the bytes allocated per request by each server (an async_hooks hook and
// V8's sampling heap profiler in the child, over 2,000 requests): figures that,
// unlike CPU time, do not move with the load of a shared machine (a `--count` run
// times nothing: the hook and the profiler leave their cost behind in the children).
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { inMemoryRegistry } from "./in-memory-registry.mjs";

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    root: { type: "string" },
    stream: { type: "boolean", default: false },
    deltas: { type: "string", default: "1" },
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    baseline: { type: "string" },
    profile: { type: "boolean", default: false },
    only: { type: "string" },
    count: { type: "boolean", default: false },
  },
});

const answerText = "Hello from the bench upstream!";
const deltas = Number(values.deltas);

if (values.serve !== undefined) await serve(values.serve, values.root);
else await measure();

// ---------------------------------------------------------------- the child side

/** Serve one variant on a free loopback port; report the port, then CPU usage on request. */
async function serve(kind, root) {
  const httpServer = kind === "bare" ? await serveBare() : await serveRegistry(root);
  let requests = 0;
  httpServer.on("request", () => requests++);
  let counting;
  process.on("message", async (message) => {
    if (message === "cpu") process.send({ cpu: process.cpuUsage() });
    if (message === "count") {
      counting = await startCounting();
      requests = 0;
      process.send({ counting: true });
    }
    if (message === "counted") process.send({ counted: await counting(requests) });
    // A clean exit writes the --cpu-prof profile.
    if (message === "exit") process.exit(0);
  });
  process.send({ port: httpServer.address().port });
}

/**
 * Count what the requests from now on make: promises (an async_hooks `init` hook)
 * and bytes allocated (V8's sampling heap profiler, every 512 bytes, counting the
 * objects garbage collection has taken since too). Unlike CPU time, both are the
 * same from run to run whatever else the machine is doing. Resolves with a
 * function that stops counting and gives the figures per request.
 */
async function startCounting() {
  const { createHook } = await import("node:async_hooks");
  const { Session } = await import("node:inspector/promises");
  let promises = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === "PROMISE") promises++;
    },
  });
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  hook.enable();
  return async (requests) => {
    hook.disable();
    const { profile } = await session.post("HeapProfiler.stopSampling");
    session.disconnect();
    let bytes = 0;
    const walk = (node) => {
      bytes += node.selfSize;
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    return { promises: promises / requests, bytes: bytes / requests };
  };
}

/** A registry built from the checkout at `root`, with one in-memory provider. */
async function serveRegistry(root) {
  // A batch per call, as a provider's reader makes one per network read.
  const { registry, registryPackage } = await inMemoryRegistry(root, async function* (core) {
    const chunks = [];
    if (deltas === 1) chunks.push(answerText);
    else for (let index = 0; index < deltas; index++) chunks.push(`token${index} `);
    chunks.push(new core.FinishReason("stop"));
    yield chunks;
  });
  const server = await registryPackage.startServer({ registry, host: "127.0.0.1", port: 0 });
  return server.httpServer;
}

/** The least HTTP work of the same request: read the body, parse it, answer. */
async function serveBare() {
  let sequence = 0;
  const server = createServer((request, response) => {
    const parts = [];
    request.on("data", (part) => parts.push(part));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8"));
      const id = `chatcmpl-${++sequence}`;
      const created = Math.floor(Date.now() / 1000);
      if (body.stream === true) {
        response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
        const event = (delta, finishReason) =>
          `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
        let events = "";
        if (deltas === 1) events += event({ role: "assistant", content: answerText }, null);
        else
          for (let index = 0; index < deltas; index++)
            events += event({ content: `token${index} ` }, null);
        response.end(`${events}${event({}, "stop")}data: [DONE]\n\n`);
        return;
      }
      const content =
        deltas === 1
          ? answerText
          : Array.from({ length: deltas }, (_, index) => `token${index} `).join("");
      const answer = JSON.stringify({
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content },
            finish_reason: "stop",
          },
        ],
        usage: { prompt_tokens: 2, completion_tokens: 8, total_tokens: 10 },
      });
      response.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(answer),
      });
      response.end(answer);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

// --------------------------------------------------------------- the parent side

async function measure() {
  const { default: autocannon } = await import("autocannon");
  const script = fileURLToPath(import.meta.url);
  const here = fileURLToPath(new URL("..", import.meta.url));
  // Counting leaves its hook and profiler's traces in the children's code: no timing after it.
  const rounds = values.count ? 0 : Number(values.rounds);
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const profileDirectory = values.profile
    ? mkdtempSync(join(tmpdir(), "g4f-registry-layers-"))
    : undefined;

  const variants = [{ name: "registry", kind: "registry", root: here.replace(/\/$/, "") }];
  if (values.baseline !== undefined)
    variants.push({ name: "registry-baseline", kind: "registry", root: values.baseline });
  variants.push({ name: "bare", kind: "bare" });
  const only = values.only?.split(",");
  const chosen = variants.filter((variant) => only === undefined || only.includes(variant.name));

  /** One child per variant, with its IPC channel and origin. */
  async function start(variant) {
    const args = ["--serve", variant.kind, "--deltas", String(deltas)];
    if (variant.root !== undefined) args.push("--root", variant.root);
    const execArgv =
      profileDirectory !== undefined && variant.kind === "registry"
        ? [
            "--cpu-prof",
            "--cpu-prof-dir",
            join(profileDirectory, variant.name),
            "--cpu-prof-interval",
            "100",
          ]
        : [];
    const child = fork(script, args, { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const [message] = await once(child, "message");
    return { ...variant, child, origin: `http://127.0.0.1:${message.port}` };
  }

  /** Send a child a message; resolves with its answer. */
  function ask(child, message) {
    return new Promise((resolve) => {
      child.once("message", resolve);
      child.send(message);
    });
  }

  async function cpuOf(child) {
    const { cpu } = await ask(child, "cpu");
    return cpu.user + cpu.system;
  }

  const body = JSON.stringify({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Hello" }],
    stream: values.stream,
  });

  /** The answer's text, to check that each server answers what it should. */
  async function check(server) {
    const response = await fetch(`${server.origin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const text = await response.text();
    const expected = deltas === 1 ? answerText : "token0 ";
    if (response.status !== 200 || !text.includes(JSON.stringify(expected).slice(1, -1)))
      throw new Error(`${server.name} answered ${response.status}: ${text.slice(0, 300)}`);
  }

  async function load(server, durationSeconds) {
    const before = await cpuOf(server.child);
    const result = await autocannon({
      url: `${server.origin}/v1/chat/completions`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      connections,
      duration: durationSeconds,
    });
    const after = await cpuOf(server.child);
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${server.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    const requests = result.requests.total;
    return { cpuPerRequest: (after - before) / requests, perSecond: requests / durationSeconds };
  }

  const servers = [];
  for (const variant of chosen) servers.push(await start(variant));
  try {
    for (const server of servers) {
      await check(server);
      await load(server, 1); // warm-up: the JIT, the pools, the first allocations
    }
    console.log(
      `${values.stream ? "SSE" : "JSON"} answers, ${deltas} delta(s), c=${connections}, ${seconds} s per run, ${rounds} rounds`,
    );
    if (values.count) {
      console.log("Per request (2,000 requests; the same whatever the machine's load):");
      for (const server of servers) {
        await ask(server.child, "count");
        const result = await autocannon({
          url: `${server.origin}/v1/chat/completions`,
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          connections,
          amount: 2000,
        });
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${server.name} failed`);
        const { counted } = await ask(server.child, "counted");
        console.log(
          `${server.name.padEnd(18)} ${counted.promises.toFixed(1).padStart(5)} promises  ${(counted.bytes / 1024).toFixed(1).padStart(6)} KB allocated`,
        );
      }
    }
    const figures = new Map(servers.map((server) => [server.name, []]));

    for (let round = 0; round < rounds; round++) {
      const order = servers.map((_, index) => servers[(index + round) % servers.length]);
      const line = [];
      for (const server of order) {
        const figure = await load(server, seconds);
        figures.get(server.name).push(figure);
        line.push(
          `${server.name} ${figure.cpuPerRequest.toFixed(1)} µs ${figure.perSecond.toFixed(0)} req/s`,
        );
      }
      console.log(`round ${round + 1}: ${line.join(" | ")}`);
    }
    if (rounds === 0) return;
    const bare = figures.get("bare");
    console.log(
      "\nCPU µs per request, median (min–max); requests/s median; ratio to bare per round",
    );
    for (const [name, list] of figures) {
      const cpu = list.map((figure) => figure.cpuPerRequest);
      const perSecond = list.map((figure) => figure.perSecond);
      let ratio = "";
      if (bare !== undefined && name !== "bare") {
        const ratios = list.map(
          (figure, index) => figure.cpuPerRequest / bare[index].cpuPerRequest,
        );
        ratio = `  ${spread(ratios, 2)}x bare`;
      }
      console.log(
        `${name.padEnd(18)} ${spread(cpu, 1).padEnd(24)} ${median(perSecond).toFixed(0).padStart(6)} req/s${ratio}`,
      );
    }
    const base = figures.get("registry-baseline");
    const current = figures.get("registry");
    if (base !== undefined && current !== undefined) {
      const ratios = current.map(
        (figure, index) => figure.cpuPerRequest / base[index].cpuPerRequest,
      );
      console.log(`registry / registry-baseline, per round: ${spread(ratios, 3)}`);
      if (bare !== undefined) {
        const above = (list) =>
          list.map((figure, index) => figure.cpuPerRequest - bare[index].cpuPerRequest);
        console.log(
          `above bare (µs): registry ${spread(above(current), 1)}, registry-baseline ${spread(above(base), 1)}`,
        );
      }
    }
  } finally {
    for (const server of servers) {
      const exited = once(server.child, "exit");
      server.child.send("exit");
      await exited;
    }
  }
  if (profileDirectory !== undefined)
    for (const server of servers.filter((server) => server.kind === "registry")) {
      const directory = join(profileDirectory, server.name);
      for (const file of readdirSync(directory))
        if (file.endsWith(".cpuprofile"))
          console.log(`profile of ${server.name}: ${join(directory, file)}`);
    }
}

function median(list) {
  const sorted = [...list].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function spread(list, digits) {
  return `${median(list).toFixed(digits)} (${Math.min(...list).toFixed(digits)}–${Math.max(...list).toFixed(digits)})`;
}
