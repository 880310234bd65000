// The system calls one request costs the registry and the bare passthrough: each
// server in a child of its own under `strace -c -f` while autocannon sends a fixed
// number of requests at c=50 to it, after a warm-up. Syscall counts do not move
// with the machine's load, and they answer whether a server's excess CPU is in the
// kernel (more writes, reads, timers per request) or in its JavaScript. Linux only;
// it needs `strace` (`apt-get install strace`), and is not part of `pnpm bench`.
//
//   npx pnpm@10.34.8 build && node bench/syscalls.mjs [--stream] [--requests 4000]
//   node bench/syscalls.mjs --baseline /tmp/perf-base7   (adds that checkout's registry)
//
// It prints, per server, each syscall made at least once per 20 requests, as calls
// per request. futex and epoll_pwait count the threads waiting for work (libuv's
// pool, V8's GC helpers), not work done per request.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { startChild, startRegistry, stopChildren } from "./processes.mjs";

const { values: flags } = parseArgs({
  options: {
    stream: { type: "boolean", default: false },
    requests: { type: "string", default: "4000" },
    baseline: { type: "string" },
  },
});
if (spawnSync("strace", ["-V"]).status !== 0) {
  console.error("bench/syscalls.mjs needs strace on the PATH (apt-get install strace)");
  process.exit(1);
}

const here = fileURLToPath(new URL(".", import.meta.url));
const requests = Number(flags.requests);
const upstream = await startChild([join(here, "upstream.mjs"), "--deltas", "1", "--interval", "0"]);
const upstreamOrigin = `http://127.0.0.1:${upstream.info.healthy}`;
const providers = [
  {
    id: "amigochat",
    use: "@g4f-ts/provider-amigochat",
    options: { baseUrl: upstreamOrigin, retry: { maxAttempts: 1 } },
  },
];
const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Hello" }],
  stream: flags.stream,
});
const traceDirectory = mkdtempSync(join(tmpdir(), "g4f-syscalls-"));

const servers = [
  ["passthrough", () => startPassthrough()],
  ["registry", () => startRegistry("syscalls", providers)],
];
if (flags.baseline !== undefined) {
  const cli = join(flags.baseline, "apps/registry/dist/cli.js");
  servers.push(["registry-baseline", () => startRegistry("syscalls-base", providers, { cli })]);
}

console.log(
  `${flags.stream ? "streamed" : "JSON"} answers, ${requests} requests at c=50, syscalls per request`,
);
for (const [name, start] of servers) {
  const { child, origin } = await start();
  await load(origin, 1000);
  const tracePath = join(traceDirectory, `${name}.txt`);
  const trace = spawn("strace", ["-c", "-f", "-p", String(child.pid), "-o", tracePath], {
    stdio: "ignore",
  });
  // strace prints nothing when attached; give it a moment to stop every thread.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await load(origin, requests);
  trace.kill("SIGINT");
  await once(trace, "exit");
  child.kill("SIGINT");
  await once(child, "exit");
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  const counts = parseStraceSummary(readFileSync(tracePath, "utf8"));
  const shown = [...counts]
    .filter(([, calls]) => calls * 20 >= requests)
    .sort((left, right) => right[1] - left[1])
    .map(([syscall, calls]) => `${syscall} ${(calls / requests).toFixed(2)}`);
  console.log(`${name.padEnd(18)} ${shown.join(", ")}`);
}
stopChildren();

function load(origin, amount) {
  return autocannon({
    url: `${origin}/v1/chat/completions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections: 50,
    amount,
  });
}

async function startPassthrough() {
  const { child, info } = await startChild([join(here, "passthrough.mjs"), upstreamOrigin]);
  return { child, origin: `http://127.0.0.1:${info.port}` };
}

/** `strace -c`'s table as syscall → calls. */
function parseStraceSummary(text) {
  const counts = new Map();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    // % time, seconds, usecs/call, calls, [errors,] syscall
    if (fields.length < 5 || !/^\d/.test(fields[0] ?? "")) continue;
    const syscall = fields.at(-1);
    if (syscall === "total") continue;
    counts.set(syscall, Number(fields[3]));
  }
  return counts;
}
